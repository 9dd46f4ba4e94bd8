// STACKL roles as separate OS processes (`stackl <role>` from the built CLI), for the
// benchmarks that must see one role on its own: its resident memory, or its start-up
// and restore as an operator would run it. A role is ready when it says so on stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { progress } from './stats.js';

// dist/bench/roles.js → dist/api/cli/main.js: the CLI built alongside this file. BENCH_CLI
// names another build's CLI, so one benchmark measures an earlier commit's roles beside
// this one's in the same sitting.
const CLI = process.env.BENCH_CLI ?? fileURLToPath(new URL('../api/cli/main.js', import.meta.url));

/** What each role prints on stderr once it serves ("… ready", the API's "listening on"). */
const READY: Record<string, RegExp> = {
  broker: /broker ready/,
  worker: /worker ready/,
  projector: /projector ready/,
  relay: /relay ready/,
  api: /api listening on (\S+)/,
};

export interface RoleProcess {
  role: string;
  pid: number;
  /** The last stderr lines (JSON log lines and the CLI's own messages). */
  lines: string[];
  /** The stderr line that said the role was ready. */
  readyLine: string;
  /** SIGTERM (the role finishes its transaction and leaves its group), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Children still running; a bench that exits or is interrupted must not leave them behind. */
const running = new Set<ChildProcess>();
let reaperInstalled = false;

function installReaper(): void {
  if (reaperInstalled) return;
  reaperInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/**
 * `stackl broker` sheds new tasks when orders would wait too long at the pace workers took
 * them in the last seconds, and a burst right after a quiet warm-up looks like that: one
 * scale-out run shed 660 tasks and waited for them to complete forever. Benchmarks that
 * count every task through to Completed run their brokers with this, as the in-process
 * benchmarks (which never shed) do.
 */
export const NO_SHEDDING = {
  STACKL_BROKER_MAX_REQUEST_AGE_MS: '0',
  STACKL_BROKER_MAX_QUEUED_ORDERS: '0',
  STACKL_BROKER_MAX_ORDER_WAIT_MS: '0',
} as const;

/**
 * Starts a broker first (it creates the topics the others check), then `others` side by
 * side; resolves once every one said it serves. Pushes each into `into` as it starts, so
 * a caller's cleanup stops whatever started even when a later one failed.
 */
export async function startBrokerThen(others: string[], env: Record<string, string | undefined>, into: RoleProcess[]): Promise<void> {
  into.push(await startRole('broker', env));
  await Promise.all(others.map(async (role) => into.push(await startRole(role, env))));
}

export async function startRole(role: string, env: Record<string, string | undefined>, timeoutMs = 600_000): Promise<RoleProcess> {
  const pattern = READY[role];
  if (pattern === undefined) throw new Error(`no readiness line known for role ${role}`);
  installReaper();
  const child = spawn(process.execPath, [CLI, role], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const readyLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} not ready after ${timeoutMs} ms; last lines:\n${lines.slice(-5).join('\n')}`)), timeoutMs);
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        // A bounded tail: a role runs for minutes and may log a line per batch.
        if (lines.push(line) > 2000) lines.shift();
        if (pattern.test(line)) {
          clearTimeout(timer);
          resolve(line);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited (${code}) before it was ready; last lines:\n${lines.slice(-5).join('\n')}`));
    });
  });
  return { role, pid: child.pid as number, lines, readyLine, stop: (graceMs = 60_000) => stopChild(child, exited, role, graceMs) };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>, role: string, graceMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    progress(`${role} (pid ${child.pid}) did not stop within ${graceMs} ms; killing it`);
    child.kill('SIGKILL');
  }, graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Resident memory of a process in MiB, from /proc (what `ps` shows as RSS); undefined once it is gone. */
export function rssOfPidMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of named processes at a fixed interval; the figures are peak and median per name. */
export class RssSampler {
  private readonly samples = new Map<string, number[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pids: Map<string, number>,
    readonly intervalMs = 500,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): Record<string, { peakMiB: number; medianMiB: number; samples: number }> {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return Object.fromEntries(
      [...this.samples].map(([name, values]) => {
        const sorted = [...values].sort((a, b) => a - b);
        return [name, { peakMiB: sorted[sorted.length - 1] ?? Number.NaN, medianMiB: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, samples: sorted.length }];
      }),
    );
  }

  private sample(): void {
    for (const [name, pid] of this.pids) {
      const rss = pid === process.pid ? Math.round(process.memoryUsage().rss / 2 ** 20) : rssOfPidMiB(pid);
      if (rss === undefined) continue;
      const list = this.samples.get(name) ?? [];
      list.push(rss);
      this.samples.set(name, list);
    }
  }
}

// Runs test/integration/projection/projector-process.ts as a child process: started,
// killed (-9 by default) and started again like an operator would, with its latest
// stats line and its stderr kept for assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ProjectionStats } from '../../../processors/projection/index.js';

const script = fileURLToPath(new URL('./projector-process.ts', import.meta.url));

export class ProjectorChild {
  private child: ChildProcess | undefined;
  private readonly output: string[] = [];
  stats: ProjectionStats | undefined;

  constructor(private readonly env: Record<string, string>) {}

  /** Starts the process; `env` adds to the constructor's environment for this run only. */
  async start(timeoutMs = 60_000, env: Record<string, string> = {}): Promise<void> {
    this.stats = undefined;
    this.output.length = 0;
    const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...this.env, ...env, STACKL_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      const last = lines.filter((l) => l.startsWith('{')).at(-1);
      if (last !== undefined) this.stats = JSON.parse(last) as ProjectionStats;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`projector not ready in ${timeoutMs} ms:\n${this.output.join('')}`)), timeoutMs);
      child.stderr?.on('data', (chunk: Buffer) => {
        if (/projector ready/.test(chunk.toString())) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`projector exited with ${code} before it was ready:\n${this.output.join('')}`));
      });
    });
  }

  /** Waits until this run's stderr matches `pattern`. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!pattern.test(this.output.join(''))) {
      if (Date.now() > until) throw new Error(`projector did not print ${String(pattern)} in ${timeoutMs} ms:\n${this.output.join('')}`);
      const child = this.child;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) throw new Error(`projector exited before printing ${String(pattern)}:\n${this.output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}

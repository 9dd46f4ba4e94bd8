// Pid files for the processes `up` starts, so `down` stops exactly those and a
// second `up` recognises its own running broker instead of starting another.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function pidFile(pidsDir: string, name: string): string {
  return join(pidsDir, `${name}.pid`);
}

export function writePid(pidsDir: string, name: string, pid: number): void {
  writeFileSync(pidFile(pidsDir, name), `${pid}\n`);
}

export function clearPid(pidsDir: string, name: string): void {
  rmSync(pidFile(pidsDir, name), { force: true });
}

/**
 * The pid recorded for `name`, if that process is still alive and its command line
 * still contains `marker` (a pid can be reused by an unrelated process after a crash).
 */
export function livePid(pidsDir: string, name: string, marker: string): number | undefined {
  const file = pidFile(pidsDir, name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return isAlive(pid) && commandLine(pid).includes(marker) ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** SIGTERM, wait for a clean exit (Kafka flushes and closes its logs), then SIGKILL. */
export async function stopProcess(pid: number, graceMs: number): Promise<'stopped' | 'killed'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'stopped';
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(200);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited between the check and the kill
  }
  return 'killed';
}

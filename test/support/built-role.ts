// Starts a role of the built CLI (`node dist/api/cli/main.js <args>`) as an OS process,
// as production runs it, copies its output to a log file and resolves once it says it
// is ready. The chaos and overload suites supervise these processes in their own ways.
import { spawn, type ChildProcess } from 'node:child_process';
import type { WriteStream } from 'node:fs';

/** What a role prints when it is ready: a role's progress line, `stackl all`'s report, the API. */
const READY = / ready|"ready": true|api listening on/;
const TAIL_CHUNKS = 30;

export interface BuiltRole {
  child: ChildProcess;
  /** The last chunks of output, kept up to date while the process runs (for failure messages). */
  tail: string[];
  /** Settles once the role says it is ready; rejects (the process killed) if it exits first or takes longer than `timeoutMs`. */
  ready: Promise<void>;
}

/** The child is there at once, so a supervisor can stop a role that is still starting. */
export function spawnBuiltRole(name: string, args: string[], env: Record<string, string>, log: WriteStream, timeoutMs: number): BuiltRole {
  const child = spawn(process.execPath, ['dist/api/cli/main.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let saidReady = (): void => {};
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString();
    log.write(text);
    tail.push(text);
    if (tail.length > TAIL_CHUNKS) tail.shift();
    if (READY.test(text)) saidReady();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const ready = new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${tail.join('')}`));
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      child.kill('SIGKILL');
      reject(new Error(`${name} not ready in ${timeoutMs} ms:\n${tail.join('')}`));
    }, timeoutMs);
    saidReady = () => {
      saidReady = () => {};
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve();
    };
    child.once('exit', onExit);
  });
  return { child, tail, ready };
}

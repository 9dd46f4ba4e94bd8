// The roles under load as OS processes of the built CLI (`node dist/api/cli/main.js
// <role>`), as they run in production: each its own event loop, all on this machine's
// cores with Kafka and PostgreSQL. Their output goes to a log file per role.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export class RoleRun {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private readonly tail: string[] = [];

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  /** What the role printed last (for failure messages). */
  get lastLines(): string {
    return this.tail.join('');
  }

  async start(timeoutMs = 120_000): Promise<void> {
    this.log = createWriteStream(join(this.logDir, `${this.name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, ['dist/api/cli/main.js', this.name], { env: { ...process.env, STACKL_LOG_LEVEL: 'warn', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready in ${timeoutMs} ms:\n${this.lastLines}`)), timeoutMs);
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString();
        this.log?.write(text);
        this.tail.push(text);
        if (this.tail.length > 30) this.tail.shift();
        if (/ ready|api listening on/.test(text)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before it was ready:\n${this.lastLines}`));
      });
    });
  }

  /** Still running (a role that died under load is a finding, not a detail). */
  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child !== undefined && this.alive) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    await new Promise((resolve) => (this.log === undefined ? resolve(undefined) : this.log.end(resolve)));
  }
}

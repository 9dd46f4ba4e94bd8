// The roles under load as OS processes of the built CLI (`node dist/api/cli/main.js
// <role>`), as they run in production: each its own event loop, all on this machine's
// cores with Kafka and PostgreSQL. Their output goes to a log file per role.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { spawnBuiltRole } from '../../support/built-role.js';

export class RoleRun {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private tail: string[] = [];

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
    const role = spawnBuiltRole(this.name, [this.name], { STACKL_LOG_LEVEL: 'warn', ...this.env }, this.log, timeoutMs);
    this.child = role.child;
    this.tail = role.tail;
    await role.ready;
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

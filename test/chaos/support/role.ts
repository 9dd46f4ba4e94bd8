// One role of the system as an OS process (`node dist/api/cli/main.js <role>`), under
// a small supervisor: a role that exits when nobody asked it to (a fatal error, a lost
// dependency) is started again after a second, as systemd or Kubernetes would. The
// chaos schedule kills, pauses and restarts roles through this class.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { spawnBuiltRole } from '../../support/built-role.js';
import { injected, notInjected, type Injection } from './injection.js';

export class Role {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private wanted = false;
  private paused = false;
  private isReady = false;
  /** Restarts the supervisor made on its own (the role exited unasked). */
  unexpectedExits = 0;
  starts = 0;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Its process runs and said it is ready (not paused, not between a crash and its restart). */
  get ready(): boolean {
    return this.isReady && this.alive && !this.paused;
  }

  private get alive(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts the role and resolves once it says it is ready. */
  async start(extraEnv: Record<string, string> = {}, timeoutMs = 120_000): Promise<void> {
    this.wanted = true;
    this.paused = false;
    this.isReady = false;
    this.starts += 1;
    this.log ??= createWriteStream(join(this.logDir, `${this.name}.log`), { flags: 'a' });
    const { child, ready } = spawnBuiltRole(this.name, this.args, { ...this.env, ...extraEnv }, this.log, timeoutMs);
    this.child = child;
    await ready;
    this.isReady = true;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.isReady = false;
      this.log?.write(`\n--- ${this.name} exited (${code ?? signal}) ---\n`);
      if (this.wanted && this.child === child) {
        this.unexpectedExits += 1;
        setTimeout(() => void this.restartQuietly(), 1_000);
      }
    });
  }

  /**
   * Waits up to `ms` for a role its supervisor is restarting (after a fatal exit, say
   * Kafka's coordinator not found after a Kafka restart) to be ready: a fault scheduled
   * in that second is then injected into the new process instead of skipped.
   */
  private async settle(ms = 60_000): Promise<void> {
    const until = Date.now() + ms;
    while (!this.ready && this.wanted && !this.paused && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 200));
  }

  /** kill -9, then the supervisor's restart after `downMs`; not injected when no ready process was there to kill. */
  async kill9(downMs = 1_000): Promise<Injection> {
    await this.settle();
    const pid = this.child?.pid;
    if (!this.ready || pid === undefined) return notInjected(`${this.name} had no ready process to kill (pid ${pid ?? 'none'}, ${this.alive ? 'starting' : 'not running'})`);
    await this.stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
    return injected(`${this.name} pid ${pid} killed (-9), restarted as pid ${this.pid}`);
  }

  /** SIGSTOP for `ms`, then SIGCONT: the process lives but says nothing meanwhile. */
  async pause(ms: number): Promise<Injection> {
    await this.settle();
    const pid = this.child?.pid;
    if (!this.ready || pid === undefined) return notInjected(`${this.name} had no ready process to pause (pid ${pid ?? 'none'})`);
    this.paused = true;
    process.kill(pid, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.paused && this.child?.pid === pid) process.kill(pid, 'SIGCONT');
    this.paused = false;
    return injected(`${this.name} pid ${pid} stopped (SIGSTOP) for ${ms} ms`);
  }

  /** Restarts with different settings (e.g. a slow agent), or back to the usual ones. */
  async restartWith(extraEnv: Record<string, string>): Promise<void> {
    await this.stop('SIGTERM');
    await this.start(extraEnv);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.wanted = false;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    if (this.paused) child.kill('SIGCONT');
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM');
    this.log?.end();
  }

  private async restartQuietly(): Promise<void> {
    // Someone else (a fault's own restart) may have started it meanwhile: never run two.
    if (!this.wanted || this.alive) return;
    try {
      await this.start();
    } catch (error) {
      this.log?.write(`\n--- supervisor could not restart ${this.name}: ${(error as Error).message} ---\n`);
      if (this.wanted) setTimeout(() => void this.restartQuietly(), 2_000);
    }
  }
}

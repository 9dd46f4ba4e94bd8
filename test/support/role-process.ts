// Runs a `stackl` role as a separate OS process (through tsx, no build needed), so
// tests can kill -9 it, stop it, and start it again like an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export class RoleProcess {
  private child: ChildProcess | undefined;
  readonly output: string[] = [];

  constructor(
    private readonly role: string,
    private readonly env: Record<string, string>,
    private readonly readyPattern: RegExp,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the role and resolves when its stderr matches the ready pattern. */
  async start(timeoutMs = 90_000): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'api/cli/main.ts', this.role], {
      env: { ...process.env, ...this.env, STACKL_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.role} not ready in ${timeoutMs} ms:\n${this.output.slice(-20).join('')}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        this.output.push(text);
        if (this.readyPattern.test(text)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.role} exited with ${code} before it was ready:\n${this.output.slice(-20).join('')}`));
      });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}

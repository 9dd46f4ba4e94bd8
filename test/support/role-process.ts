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
      // Quiet unless the test asks for more (e.g. to read what a role logs as it stops).
      env: { ...process.env, STACKL_LOG_LEVEL: 'warn', ...this.env },
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

  /** Sends `signal` and resolves with how the process ended (undefined: it was not running). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return undefined;
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill(signal);
    const [code, endedBy] = await exited;
    return { code, signal: endedBy };
  }
}

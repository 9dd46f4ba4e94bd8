// Runs test/integration/projection/projector-process.ts as a child process: started,
// killed (-9 by default) and started again like an operator would, with its latest
// stats line kept for assertions.
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

  async start(timeoutMs = 60_000): Promise<void> {
    this.stats = undefined;
    const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...this.env, STACKL_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
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
        this.output.push(chunk.toString());
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

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}

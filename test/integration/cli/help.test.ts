// Every `stackl` command answers --help with its usage on stdout and exit 0, and refuses an
// unknown flag with exit 2 (issue 15 §4): the real CLI as a child process, for each command.
import { spawn } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../api/cli/cli-io.js';
import { commands } from '../../../api/cli/commands.js';

function stackl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/cli/main.ts', ...args], { env: { ...process.env, STACKL_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

const names = Object.keys(commands);

describe('stackl --help', () => {
  it('prints the usage of every command and exits 0', { timeout: 120_000 }, async () => {
    const results = await Promise.all(names.map(async (name) => ({ name, ...(await stackl([name, '--help'])) })));
    for (const { name, code, stdout, stderr } of results) {
      expect({ name, code, stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(stdout, name).toMatch(new RegExp(`^usage: stackl ${name}\\b`));
    }
  });

  it('refuses an unknown flag with exit 2, naming it, before doing anything', async () => {
    // In this process: the flag is refused by the parser, before any connection is made.
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    try {
      for (const name of names) {
        written.length = 0;
        const outcome = await Promise.resolve()
          .then(() => commands[name]?.run(['--no-such-flag']))
          .then(
          (code) => ({ code, message: written.join('') }),
          (error: unknown) => ({ code: error instanceof UsageError ? 2 : 1, message: String(error) }),
        );
        expect(outcome?.code, name).toBe(2);
        expect(outcome?.message, name).toContain('--no-such-flag');
      }
    } finally {
      spy.mockRestore();
    }
  });
});

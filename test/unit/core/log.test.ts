// The logger writes to stderr's file descriptor directly (synchronously, so a line
// before an exit is never lost), so it is read from a child process here.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const LOG_MODULE = new URL('../../../core/log.ts', import.meta.url).pathname;

function linesOf(script: string, env: Record<string, string> = {}): Record<string, unknown>[] {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(LOG_MODULE)};\n${script}`], {
    env: { ...process.env, STACKL_LOG_LEVEL: '', ...env },
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toBe('');
  return run.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('logs', () => {
  it('are one JSON object per line on stderr: level as a word, ISO time, bindings, fields, msg', () => {
    const [line] = linesOf("createLogger({ component: 'broker' }).child({ partition: 3 }).warn('slow commit', { ms: 812 });");
    expect(line).toEqual({ level: 'warn', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), component: 'broker', partition: 3, ms: 812, msg: 'slow commit' });
  });

  it('keep below STACKL_LOG_LEVEL quiet', () => {
    const script = "const log = createLogger(); log.debug('d'); log.info('i'); log.warn('w'); log.error('e');";
    expect(linesOf(script).map((l) => l.msg)).toEqual(['i', 'w', 'e']);
    expect(linesOf(script, { STACKL_LOG_LEVEL: 'debug' }).map((l) => l.msg)).toEqual(['d', 'i', 'w', 'e']);
    expect(linesOf(script, { STACKL_LOG_LEVEL: 'error' }).map((l) => l.msg)).toEqual(['e']);
  });

  it('write errors under any name with their stack and causes', () => {
    const [line] = linesOf("createLogger().error('failed', { error: new Error('outer', { cause: new Error('root') }), also: new TypeError('second') });");
    expect(line?.error).toMatchObject({ type: 'Error', message: 'outer', stack: expect.stringContaining('Error: outer'), cause: { message: 'root', stack: expect.stringContaining('Error: root') } });
    expect(line?.also).toMatchObject({ type: 'TypeError', message: 'second' });
  });

  it('never write secrets: passwords, API keys, webhook secrets, authorization, credentials in URLs', () => {
    const [line] = linesOf(
      "createLogger({ component: 'c' }).info('connecting to postgres://stackl:hunter2@db:5432/x', { password: 'p', apiKeys: ['k'], settings: { secret: 's', apiKey: 'k', kept: 1 }, headers: { authorization: 'Bearer t', 'x-api-key': 'k' }, url: 'https://u:pw@hooks.example.com/h' });",
    );
    const text = JSON.stringify(line);
    for (const secret of ['hunter2', '"p"', '"k"', '"s"', 'Bearer t', ':pw@']) expect(text).not.toContain(secret);
    expect(line).toMatchObject({ password: '[redacted]', apiKeys: '[redacted]', settings: { secret: '[redacted]', apiKey: '[redacted]', kept: 1 }, headers: { authorization: '[redacted]', 'x-api-key': '[redacted]' }, url: 'https://u:[redacted]@hooks.example.com/h' });
    expect(line?.msg).toBe('connecting to postgres://stackl:[redacted]@db:5432/x');
  });
});

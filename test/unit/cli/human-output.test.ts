import { describe, expect, it } from 'vitest';
import { runCommand, type CliIo } from '../../../api/cli/cli-io.js';
import { eventLine, kindsText, settledText, taskListText, taskText } from '../../../api/cli/human.js';
import { ago, colorWanted, duration, styleFor, table } from '../../../api/cli/output.js';
import type { TaskBody } from '../../../api/schemas.js';

const plain = styleFor(false);
const NOW = Date.parse('2026-12-05T12:00:00Z');

function io(tty: boolean): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { env: {}, tty, out: (t) => lines.push(t), err: (t) => errors.push(t), lines, errors };
}

const task: TaskBody = {
  id: '01a2f0c4-0000-7000-8000-000000000001', kind: 'probe', action: 'run', status: 'Failed', rollback: 'failed',
  failure: { reason: 'attempt_failed', message: 'probe failed as asked' }, rejection: null, attempts: 1, maxAttempts: 1, workerId: 'worker-1',
  progress: null, attemptError: 'probe failed as asked', retryAt: null, rollbackAttempts: 1, rollbackError: 'probe rollback failed as asked',
  origin: { type: 'none', target: null }, idempotencyKey: null, payload: { outcome: 'fail' }, output: null, deadlineAt: null,
  createdAt: '2026-12-05T11:58:00Z', updatedAt: '2026-12-05T11:59:55Z', sequence: 7,
};

describe('the CLI answers people on a terminal and scripts through a pipe', () => {
  const answer = (args: string[], terminal: boolean) => {
    const out = io(terminal);
    return runCommand(out, 'demo', 'stackl demo', args, async (rest, output) => {
      output.result({ rest, n: 1 }, (v) => `people: ${v.n} (${v.rest.join(' ')})`);
      return 0;
    }).then((code) => ({ code, ...out }));
  };

  it('prints JSON when piped, text on a terminal, and --json / --human choose either way', async () => {
    expect((await answer(['x'], false)).lines).toEqual([JSON.stringify({ rest: ['x'], n: 1 }, null, 2)]);
    expect((await answer(['x'], true)).lines).toEqual(['people: 1 (x)']);
    expect((await answer(['--json', 'x'], true)).lines).toEqual([JSON.stringify({ rest: ['x'], n: 1 }, null, 2)]);
    expect((await answer(['x', '--human'], false)).lines).toEqual(['people: 1 (x)']);
  });

  it('refuses both at once with the usage (exit 2), and --help names them', async () => {
    const both = await answer(['--json', '--human'], true);
    expect([both.code, both.errors.join('')]).toEqual([2, expect.stringMatching(/--json and --human exclude each other[\s\S]*usage: stackl demo \[--json \| --human\]/)]);
    const help = await answer(['--help'], false);
    expect(help.lines).toEqual(['usage: stackl demo [--json | --human]']);
  });

  it('colours only a terminal that wants them', () => {
    expect(colorWanted(true, {})).toBe(true);
    expect(colorWanted(false, {})).toBe(false);
    expect(colorWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(true, { TERM: 'dumb' })).toBe(false);
    expect(styleFor(true).bad('x')).toBe('\u001b[31mx\u001b[39m');
  });
});

describe('text for people', () => {
  it('relative times and durations', () => {
    expect([ago(NOW - 4_000, NOW), ago(NOW - 180_000, NOW), ago(NOW - 7_200_000, NOW), ago(NOW - 3 * 86_400_000, NOW), ago(NOW + 30_000, NOW)]).toEqual(['4 s ago', '3 min ago', '2 h ago', '3 d ago', 'in 30 s']);
    expect([duration(850), duration(2_400), duration(185_000)]).toEqual(['850 ms', '2.4 s', '3 min 5 s']);
  });

  it('aligns table columns whatever the colours', () => {
    const coloured = styleFor(true);
    const text = table(['A', 'B'], [[coloured.good('long cell'), 'x'], ['s', 'y']], plain);
    const ESC = String.fromCharCode(27);
    expect(text.split('\n').map((l) => l.split(`${ESC}[32m`).join('').split(`${ESC}[39m`).join(''))).toEqual(['A          B', 'long cell  x', 's          y']);
  });

  it('a task as labelled lines, a list as a table, events one per line', () => {
    const text = taskText(task, plain, NOW);
    expect(text).toMatch(/^task +01a2f0c4-0000-7000-8000-000000000001$/m);
    expect(text).toMatch(/^status +Failed, rollback failed$/m);
    expect(text).toMatch(/^rollback error +probe rollback failed as asked$/m);
    expect(text).toMatch(/^created +2 min ago/m);
    const list = taskListText({ items: [task], nextCursor: 'abc' }, plain, NOW).split('\n');
    expect(list[0]).toMatch(/^ID +KIND +STATUS +ROLLBACK +ATTEMPTS +UPDATED$/);
    expect(list[1]).toMatch(/probe\/run +Failed +failed +1 +5 s ago$/);
    expect(list[2]).toBe('more: --cursor abc');
    expect(eventLine({ time: '2026-12-05T11:59:55.123Z', sequence: 4, type: 'AttemptFailed', body: { attempt: 1, workerId: 'worker-1', message: 'no' } }, plain)).toBe(
      '11:59:55.123    4  AttemptFailed  attempt=1 workerId=worker-1 message=no',
    );
    expect(settledText({ settled: 'Failed', rollback: 'done', attempts: 2, output: null, failure: { reason: 'timeout', message: null } }, plain)).toBe('settled Failed after 2 attempts: timeout; rollback done');
    expect(kindsText([{ name: 'probe', source: 'built-in', pool: 'default', version: 1, actions: ['run'], description: 'a diagnostic' }], plain).split('\n')[1]).toMatch(/^probe +built-in +default +1 +run +a diagnostic$/);
  });
});

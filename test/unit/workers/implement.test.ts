// implement(): a kind's plain async handlers as the manager the worker runs, driven here
// through a real Worker on a channel in memory.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { WorkOrder } from '../../../channels/work-channel.js';
import { defineKind, implement, NO_RESULT, TaskFailure } from '../../../index.js';
import { Worker } from '../../../workers/worker.js';
import { attempt, MemoryChannel } from './memory-channel.js';

const note = defineKind({ name: 'note', actions: ['write'], payload: z.strictObject({ text: z.string(), mode: z.enum(['ok', 'fail', 'fatal', 'crash', 'silent']) }), rollback: 'compensate' });
const seen: string[] = [];
const served = implement(note, {
  async run(payload, ctx) {
    seen.push(`run ${payload.text} #${ctx.attempt} ${ctx.kind}/${ctx.action} ${ctx.taskId === ctx.task.id}`);
    if (payload.mode === 'fail') throw new TaskFailure('try again');
    if (payload.mode === 'fatal') throw new TaskFailure('never', { retriable: false });
    if (payload.mode === 'crash') throw new Error('boom');
    if (payload.mode === 'silent') return NO_RESULT;
    return { wrote: payload.text.length };
  },
  async rollback(payload, ctx) {
    seen.push(`undo ${payload.text} of #${ctx.failedAttempt}`);
    if (payload.text === 'stuck') throw new TaskFailure('cannot undo');
  },
});

function rollbackOf(order: WorkOrder): WorkOrder {
  if (order.type !== 'RunAttempt') throw new Error('an attempt expected');
  return { ...order, type: 'RunRollback', body: { task: order.body.task, rollbackAttempt: 1, failedAttempt: 1, deadlineAt: Date.now() + 10_000 } };
}

async function run(order: WorkOrder): Promise<MemoryChannel['results']> {
  const channel = new MemoryChannel();
  const worker = new Worker({ channel, managers: new Map([[served.kind.name, served.manager]]), concurrency: 2 });
  await worker.start();
  await channel.deliver(order);
  return channel.results;
}

describe('implement', () => {
  it('hands the handler its parsed payload and context, and reports what it returns as the output', async () => {
    const results = await run(attempt({ text: 'hi', mode: 'ok' }, 10_000, 'note', { action: 'write' }));
    expect(results.map((r) => r.type)).toEqual(['AttemptStarted', 'AttemptSucceeded']);
    expect(results.at(-1)?.body).toMatchObject({ output: '{"wrote":2}' });
    expect(seen).toContain('run hi #1 note/write true');
  });

  it('turns TaskFailure into a failure that says whether a retry may help, and any other error into a retriable one', async () => {
    const bodies = async (mode: string) => (await run(attempt({ text: 'x', mode }, 10_000, 'note', { action: 'write' }))).at(-1)?.body;
    expect(await bodies('fail')).toMatchObject({ message: 'try again', retriable: true });
    expect(await bodies('fatal')).toMatchObject({ message: 'never', retriable: false });
    expect(await bodies('crash')).toMatchObject({ message: 'boom', retriable: true });
    expect((await run(attempt({ text: 'x', mode: 'silent' }, 10_000, 'note', { action: 'write' }))).map((r) => r.type)).toEqual(['AttemptStarted']);
  });

  it('fails for good, before the handler runs, a payload its own schema refuses', async () => {
    const before = seen.length;
    const results = await run(attempt({ text: 'x', mode: 'loud' }, 10_000, 'note', { action: 'write' }));
    expect(results.at(-1)).toMatchObject({ type: 'AttemptFailed', body: { retriable: false, message: expect.stringMatching(/^the payload of note\/write does not fit this worker's schema: mode: /) } });
    expect(seen.length).toBe(before);
  });

  it('runs the rollback handler, and reports a TaskFailure there as a failed rollback', async () => {
    expect((await run(rollbackOf(attempt({ text: 'undo-me', mode: 'ok' }, 10_000, 'note', { action: 'write' })))).map((r) => r.type)).toEqual(['RollbackSucceeded']);
    expect(seen).toContain('undo undo-me of #1');
    expect((await run(rollbackOf(attempt({ text: 'stuck', mode: 'ok' }, 10_000, 'note', { action: 'write' })))).at(-1)).toMatchObject({ type: 'RollbackFailed', body: { message: 'cannot undo' } });
  });

  it("answers a rollback at once for a kind with rollback 'none', and demands a rollback handler otherwise", async () => {
    const plain = defineKind({ name: 'plain', actions: ['go'], payload: z.object({}), rollback: 'none' });
    const servedPlain = implement(plain, { run: async () => ({}) });
    const channel = new MemoryChannel();
    const worker = new Worker({ channel, managers: new Map([['plain', servedPlain.manager]]), concurrency: 1 });
    await worker.start();
    await channel.deliver(rollbackOf(attempt({}, 10_000, 'plain', { action: 'go' })));
    expect(channel.results.map((r) => r.type)).toEqual(['RollbackSucceeded']);
    expect(() => implement(note, { run: async () => ({}) })).toThrow(/compensates on failure, so its handlers need a rollback/);
  });
});

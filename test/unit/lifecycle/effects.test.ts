import { describe, expect, it } from 'vitest';
import { effects, initialState, type LifecycleEvent } from '../../../processors/lifecycle/index.js';
import { accepted, cancel, event, result, rollingBack, running, spec, submit, T0, tick } from './fixtures.js';
import { given } from './given.js';

const topic = { type: 'topic' as const, target: 'stackl.reply.replies' };
const none = { type: 'none' as const, target: null };

describe('effects of each event (rules 12 and 13)', () => {
  it('AttemptDispatched: a RunAttempt work order with the whole task', () => {
    const { effects: out } = given().when(submit({ attemptTimeoutMs: 9_000 }));
    expect(out).toEqual([[], [{ type: 'dispatch', body: { type: 'RunAttempt', body: { task: spec({ attemptTimeoutMs: 9_000 }), attempt: 1, deadlineAt: T0 + 9_000 } } }]]);
  });

  it('RollbackDispatched: a RunRollback work order naming the failed attempt', () => {
    const { effects: out } = given(...running()).when(cancel());
    expect(out).toEqual([[], [], [{ type: 'dispatch', body: { type: 'RunRollback', body: { task: spec(), rollbackAttempt: 1, failedAttempt: 1, deadlineAt: T0 + 300_000 } } }]]);
  });

  it('TaskCompleted: a reply to the origin; AttemptSucceeded: nothing', () => {
    const { effects: out } = given(...running()).when(result('AttemptSucceeded', { attempt: 1, workerId: 'w', output: '1' }));
    expect(out).toEqual([[], [{ type: 'reply', origin: topic }]]);
  });

  it('an origin of type none is never replied to', () => {
    const { effects: out } = given(...running({ origin: none })).when(result('AttemptSucceeded', { attempt: 1, workerId: 'w', output: '1' }));
    expect(out).toEqual([[], []]);
  });

  it('TaskRejected: a reply to the origin of the rejected submission, if it has a usable one', () => {
    expect(given().when(submit({ kind: 'nope' })).effects).toEqual([[{ type: 'reply', origin: topic }]]);
    expect(given().when(submit({ kind: 'nope', origin: none })).effects).toEqual([[]]);
    expect(given().when(submit({ origin: { type: 'topic', target: null } })).effects).toEqual([[]]);
    const rejected = event('TaskRejected', { code: 'X', message: 'x' });
    expect(effects(rejected, given(rejected).state)).toEqual([]);
  });

  it('RollbackSucceeded: a reply; RollbackFailed: a reply only when the rollback gives up', () => {
    expect(given(...rollingBack()).when(result('RollbackSucceeded', { rollbackAttempt: 1, workerId: 'r' })).effects).toEqual([[{ type: 'reply', origin: topic }]]);
    expect(given(...rollingBack()).when(result('RollbackFailed', { rollbackAttempt: 1, workerId: 'r', message: 'x' })).effects).toEqual([[]]);
    const last = given(...rollingBack({ rollbackMaxAttempts: 1 })).when(result('RollbackFailed', { rollbackAttempt: 1, workerId: 'r', message: 'x' }));
    expect(last.effects).toEqual([[{ type: 'reply', origin: topic }]]);
  });

  it('TaskExpunged: expunge', () => {
    const completed = [...running(), event('AttemptSucceeded', { attempt: 1, output: '1' }), event('TaskCompleted', { output: '1' })];
    expect(given(...completed).when(tick, T0 + 3_600_000).effects).toEqual([[{ type: 'expunge' }]]);
  });

  it.each<LifecycleEvent>([
    accepted()[0] as LifecycleEvent,
    event('AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }),
    event('AttemptProgressed', { attempt: 1, percent: 1, message: null }),
    event('AttemptSucceeded', { attempt: 1, output: '1' }),
    event('AttemptFailed', { attempt: 1, reason: 'error', message: 'x', retryAt: null }),
    event('TaskFailed', { reason: 'error', message: 'x' }),
    event('RollbackRetryRequested', { requestedBy: null }),
    event('CommandRejected', { command: 'CancelTask', code: 'X', message: 'x' }),
  ])('$type: nothing besides the event', (e) => {
    expect(effects(e, given(...running()).state)).toEqual([]);
  });

  it('a work order needs the live task: anything else is a bug in the adapter', () => {
    expect(() => effects(event('AttemptDispatched', { attempt: 1, deadlineAt: 1 }), initialState)).toThrow(/need the live task/);
  });
});

import { describe, expect, it } from 'vitest';
import { decide, nextDeadline, taskView, type LifecycleEvent } from '../../../processors/lifecycle/index.js';
import { accepted, cancel, context, event, result, retryRollback, rollingBack, running, T0, tick } from './fixtures.js';
import { given } from './given.js';

const rbFailed = (rollbackAttempt: number) => result('RollbackFailed', { rollbackAttempt, workerId: 'r', message: 'stuck' });
const rbSucceeded = (rollbackAttempt: number) => result('RollbackSucceeded', { rollbackAttempt, workerId: 'r' });

/** Rollback attempts 1..n each failed at T0, the n-th leaving `retryAt` as given. */
function rollbackFailures(n: number, lastRetryAt: number | null): LifecycleEvent[] {
  const events: LifecycleEvent[] = [];
  for (let k = 1; k <= n; k++) {
    if (k > 1) events.push(event('RollbackDispatched', { rollbackAttempt: k, deadlineAt: T0 + 300_000 }));
    events.push(event('RollbackFailed', { rollbackAttempt: k, message: 'stuck', retryAt: k === n ? lastRetryAt : T0 + 1 }));
  }
  return events;
}

describe('rollback is work (rule 6)', () => {
  it('the rollback deadline is one attempt timeout, else the task timeout, but at least 30 s', () => {
    expect(rollingBack({ attemptTimeoutMs: 45_000 }).at(-1)).toEqual(event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 45_000 }));
    expect(rollingBack({ attemptTimeoutMs: 7_000 }).at(-1)).toEqual(event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 30_000 }));
    expect(nextDeadline(given(...rollingBack()).state)).toBe(T0 + 300_000);
  });

  it('the rollback deadline also covers the wait its order is expected to have in the queue; nothing else moves', () => {
    const { state } = given(...running({ attemptTimeoutMs: 45_000 }));
    const failure = result('AttemptFailed', { attempt: 1, workerId: 'w1', message: 'boom', retriable: false });
    const queued = decide(failure, state, { ...context(T0 + 10), rollbackQueueWaitMs: 50_000 });
    const idle = decide(failure, state, context(T0 + 10));
    expect(queued.at(-1)).toEqual(event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 10 + 45_000 + 50_000 }));
    expect(idle.at(-1)).toEqual(event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 10 + 45_000 }));
    expect(queued.slice(0, -1)).toEqual(idle.slice(0, -1));
  });

  it('a successful rollback of the current attempt is done', () => {
    const { state } = given(...rollingBack()).when(rbSucceeded(1), T0 + 10).then([event('RollbackSucceeded', { rollbackAttempt: 1 })]);
    expect(taskView(state)).toMatchObject({ status: 'Failed', rollback: 'done' });
  });

  it('a failed rollback attempt is retried with the rollback backoff', () => {
    const { state } = given(...rollingBack()).when(rbFailed(1), T0 + 10).then([
      event('RollbackFailed', { rollbackAttempt: 1, message: 'stuck', retryAt: T0 + 1_010 }),
    ]);
    expect(taskView(state)).toMatchObject({ rollback: 'pending', rollbackRetryAt: T0 + 1_010, rollbackError: 'stuck' });
    const waiting = given(...rollingBack(), ...rollbackFailures(1, T0 + 1_010));
    waiting.when(tick, T0 + 1_009).then([]);
    waiting.when(tick, T0 + 1_010).then([event('RollbackDispatched', { rollbackAttempt: 2, deadlineAt: T0 + 301_010 })]);
  });

  it('the n-th rollback failure waits initialMs × 2^(n-1)', () => {
    given(...rollingBack(), ...rollbackFailures(3, T0 + 1), event('RollbackDispatched', { rollbackAttempt: 4, deadlineAt: T0 + 300_000 }))
      .when(rbFailed(4), T0)
      .then([event('RollbackFailed', { rollbackAttempt: 4, message: 'stuck', retryAt: T0 + 8_000 })]);
  });

  it('a rollback attempt past its deadline fails as a timeout', () => {
    given(...rollingBack({ attemptTimeoutMs: 50_000 })).when(tick, T0 + 50_000).then([
      event('RollbackFailed', { rollbackAttempt: 1, message: 'rollback attempt 1 timed out', retryAt: T0 + 51_000 }),
    ]);
  });

  it('after the last rollback attempt fails, the rollback is failed and waits for an operator', () => {
    const lastTry = given(...rollingBack(), ...rollbackFailures(4, T0 + 1), event('RollbackDispatched', { rollbackAttempt: 5, deadlineAt: T0 + 300_000 }));
    const { state } = lastTry.when(rbFailed(5), T0 + 50).then([event('RollbackFailed', { rollbackAttempt: 5, message: 'stuck', retryAt: null })]);
    expect(taskView(state)).toMatchObject({ status: 'Failed', rollback: 'failed', expungeAt: null });
    expect(nextDeadline(state)).toBeNull();
    given(...rollingBack(), ...rollbackFailures(5, null)).when(tick, T0 + 10 * 3_600_000).then([]);
  });
});

describe('operator retry (rule 7)', () => {
  const gaveUp = [...rollingBack(), ...rollbackFailures(5, null)];

  it('a failed rollback is retried on request with the next rollback attempt', () => {
    const { state } = given(...gaveUp).when(retryRollback('ops@example.test'), T0 + 100).then([
      event('RollbackRetryRequested', { requestedBy: 'ops@example.test' }),
      event('RollbackDispatched', { rollbackAttempt: 6, deadlineAt: T0 + 300_100 }),
    ]);
    expect(taskView(state)).toMatchObject({ rollback: 'running', rollbackAttempt: 6 });
  });

  it('an operator retry is one more attempt: failing again lists the task again', () => {
    const retried = [...gaveUp, event('RollbackRetryRequested', { requestedBy: null }), event('RollbackDispatched', { rollbackAttempt: 6, deadlineAt: T0 + 1 })];
    given(...retried).when(rbFailed(6), T0).then([event('RollbackFailed', { rollbackAttempt: 6, message: 'stuck', retryAt: null })]);
    given(...retried).when(rbSucceeded(6), T0).then([event('RollbackSucceeded', { rollbackAttempt: 6 })]);
  });

  it.each([
    ['running', rollingBack(), 'Failed/running'],
    ['pending', [...rollingBack(), ...rollbackFailures(1, T0 + 1_000)], 'Failed/pending'],
    ['done', [...rollingBack(), event('RollbackSucceeded', { rollbackAttempt: 1 })], 'Failed/done'],
    ['InProgress', running(), 'InProgress'],
    ['Available', accepted(), 'Available'],
    ['Completed', [...running(), event('AttemptSucceeded', { attempt: 1, output: '1' }), event('TaskCompleted', { output: '1' })], 'Completed'],
    ['Rejected', [event('TaskRejected', { code: 'UNKNOWN_KIND', message: 'x' })], 'Rejected'],
  ])('is refused when the rollback is %s', (_name, history, position) => {
    given(...history).when(retryRollback()).then([
      event('CommandRejected', { command: 'RetryRollback', code: 'ROLLBACK_NOT_FAILED', message: `the rollback has not failed (task is ${position})` }),
    ]);
  });

  it('is refused for a task that does not exist', () => {
    given().when(retryRollback()).then([event('CommandRejected', { command: 'RetryRollback', code: 'TASK_NOT_FOUND', message: 'no such task' })]);
  });
});

describe('a late worker re-runs the rollback (rule 9)', () => {
  const lateSuccess = (attempt: number) => result('AttemptSucceeded', { attempt, workerId: 'late', output: '1' });

  it('a success after the task failed dispatches a new rollback attempt; the old one is stale', () => {
    const { state, events } = given(...rollingBack()).when(lateSuccess(1), T0 + 100).then([
      event('RollbackDispatched', { rollbackAttempt: 2, deadlineAt: T0 + 300_100 }),
    ]);
    expect(taskView(state)).toMatchObject({ status: 'Failed', rollback: 'running', output: null });
    given(...rollingBack(), ...events).when(rbSucceeded(1)).then([]);
  });

  it.each([
    ['pending', rollbackFailures(1, T0 + 1_000)],
    ['done', [event('RollbackSucceeded', { rollbackAttempt: 1 })]],
    ['failed', rollbackFailures(5, null)],
  ])('also when the rollback is %s', (_name, tail) => {
    const n = tail.filter((e) => e.type === 'RollbackDispatched').length + 1;
    given(...rollingBack(), ...tail).when(lateSuccess(1), T0).then([
      event('RollbackDispatched', { rollbackAttempt: n + 1, deadlineAt: T0 + 300_000 }),
    ]);
  });

  it('a success of an earlier attempt counts; one from an attempt never dispatched does not', () => {
    const twice = [
      ...running({ maxAttempts: 2 }),
      event('AttemptFailed', { attempt: 1, reason: 'error', message: 'x', retryAt: T0 + 1 }),
      event('AttemptDispatched', { attempt: 2, deadlineAt: T0 + 300_000 }),
      event('TaskFailed', { reason: 'cancelled', message: 'cancelled' }),
      event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 1 }),
    ];
    expect(given(...twice).when(lateSuccess(1)).events.map((e) => e.type)).toEqual(['RollbackDispatched']);
    given(...twice).when(lateSuccess(3)).then([]);
  });

  it('a start of the attempt cancelled while queued re-runs the rollback', () => {
    const cancelled = given(...accepted()).when(cancel(), T0).events;
    given(...accepted(), ...cancelled).when(result('AttemptStarted', { attempt: 1, workerId: 'w9' }), T0 + 5).then([
      event('RollbackDispatched', { rollbackAttempt: 2, deadlineAt: T0 + 300_005 }),
    ]);
  });

  it('a late failure changes nothing, even as the first report of an attempt: an attempt reports its start before any change', () => {
    // Quick attempts that change nothing report no start; their late failure leaves nothing to undo.
    const queuedCancel = given(...accepted()).when(cancel(), T0).events;
    given(...accepted(), ...queuedCancel).when(result('AttemptFailed', { attempt: 1, workerId: 'w9', message: 'bad input', retriable: true }), T0 + 5).then([]);
    const runningCancel = given(...running()).when(cancel(), T0).events;
    given(...running(), ...runningCancel).when(result('AttemptFailed', { attempt: 1, workerId: 'w1', message: 'late', retriable: true })).then([]);
  });

  it('a start of an attempt already seen started is a redelivery, not news', () => {
    const cancelled = given(...running()).when(cancel(), T0).events;
    given(...running(), ...cancelled).when(result('AttemptStarted', { attempt: 1, workerId: 'w1' })).then([]);
  });
});

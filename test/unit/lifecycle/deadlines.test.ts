import { describe, expect, it } from 'vitest';
import { nextDeadline, taskView } from '../../../processors/lifecycle/index.js';
import { accepted, event, result, running, T0, tick } from './fixtures.js';
import { given } from './given.js';

// A rollback attempt's time: the attempt's (or task's) timeout, but never under 30 s.
const rollback1 = (now: number, timeoutMs = 300_000) => event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: now + timeoutMs });

describe('deadlines (rule 3)', () => {
  it('an attempt past its own deadline fails as a timeout; with one attempt the task fails', () => {
    const { state } = given(...running({ attemptTimeoutMs: 10_000 })).when(tick, T0 + 10_000).then([
      event('AttemptFailed', { attempt: 1, reason: 'timeout', message: 'attempt 1 timed out', retryAt: null }),
      event('TaskFailed', { reason: 'timeout', message: 'attempt 1 timed out (attempt 1 of 1)' }),
      event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 10_000 + 30_000 }),
    ]);
    expect(taskView(state)).toMatchObject({ status: 'Failed', rollback: 'running', failure: { reason: 'timeout' } });
  });

  it('an attempt dispatched but never started times out too', () => {
    given(...accepted({ attemptTimeoutMs: 10_000 })).when(tick, T0 + 10_001).then([
      event('AttemptFailed', { attempt: 1, reason: 'timeout', message: 'attempt 1 timed out', retryAt: null }),
      event('TaskFailed', { reason: 'timeout', message: 'attempt 1 timed out (attempt 1 of 1)' }),
      rollback1(T0 + 10_001, 30_000),
    ]);
  });

  it('a silent worker fails its attempt at the heartbeat deadline', () => {
    given(...running({ heartbeatTimeoutMs: 5_000 })).when(tick, T0 + 5_000).then([
      event('AttemptFailed', { attempt: 1, reason: 'timeout', message: 'no heartbeat for 5000 ms from attempt 1', retryAt: null }),
      event('TaskFailed', { reason: 'timeout', message: 'no heartbeat for 5000 ms from attempt 1 (attempt 1 of 1)' }),
      rollback1(T0 + 5_000),
    ]);
  });

  it('a heartbeat moves the deadline: the tick at the old one finds nothing due', () => {
    const scenario = given(...running({ heartbeatTimeoutMs: 5_000 })).at(T0 + 4_000, event('AttemptStarted', { attempt: 1, workerId: 'w1', heartbeatDeadlineAt: T0 + 9_000 }));
    expect(nextDeadline(scenario.state)).toBe(T0 + 9_000);
    scenario.when(tick, T0 + 5_000).then([]);
    expect(scenario.when(tick, T0 + 9_000).events[0]).toMatchObject({ type: 'AttemptFailed', body: { reason: 'timeout' } });
  });

  it('progress moves the heartbeat deadline too', () => {
    const scenario = given(...running({ heartbeatTimeoutMs: 5_000 })).at(T0 + 3_000, event('AttemptProgressed', { attempt: 1, percent: 10, message: null }));
    expect(nextDeadline(scenario.state)).toBe(T0 + 8_000);
    scenario.when(tick, T0 + 5_000).then([]);
    expect(scenario.when(tick, T0 + 8_000).events).toHaveLength(3);
  });

  it('the task deadline fences the running attempt, fails the task and starts the rollback', () => {
    given(...running({ maxAttempts: 5 })).when(tick, T0 + 300_000).then([
      event('AttemptFailed', { attempt: 1, reason: 'timeout', message: 'task timed out after 300000 ms', retryAt: null }),
      event('TaskFailed', { reason: 'timeout', message: 'task timed out after 300000 ms' }),
      rollback1(T0 + 300_000),
    ]);
  });

  it('the task deadline while a retry waits fails the task without fencing anything', () => {
    const waiting = [...running({ maxAttempts: 3, timeoutMs: 10_000 }), event('AttemptFailed', { attempt: 1, reason: 'error', message: 'x', retryAt: T0 + 9_000 })];
    // A late timer delivers both times at once: the deadline wins over the retry.
    given(...waiting).when(tick, T0 + 10_000).then([
      event('TaskFailed', { reason: 'timeout', message: 'task timed out after 10000 ms' }),
      rollback1(T0 + 10_000, 30_000),
    ]);
  });

  it('a short task timeout does not shorten the rollback: its attempt gets at least 30 s', () => {
    given(...running({ timeoutMs: 6_000 })).when(tick, T0 + 6_000).then([
      event('AttemptFailed', { attempt: 1, reason: 'timeout', message: 'task timed out after 6000 ms', retryAt: null }),
      event('TaskFailed', { reason: 'timeout', message: 'task timed out after 6000 ms' }),
      rollback1(T0 + 6_000, 30_000),
    ]);
  });

  it('that rollback attempt is still running after 6 s and times out only at its own 30 s deadline', () => {
    const failedAt = T0 + 6_000;
    const timedOut = given(...running({ timeoutMs: 6_000 })).when(tick, failedAt).events;
    const rolling = given(...running({ timeoutMs: 6_000 })).at(failedAt, ...timedOut);
    rolling.when(tick, failedAt + 29_999).then([]);
    rolling.when(tick, failedAt + 30_000).then([
      event('RollbackFailed', { rollbackAttempt: 1, message: 'rollback attempt 1 timed out', retryAt: failedAt + 30_000 + 1_000 }),
    ]);
  });

  it('a tick with nothing due, early or duplicate, emits nothing', () => {
    given(...running({ attemptTimeoutMs: 10_000 })).when(tick, T0 + 9_999).then([]);
    given().when(tick, T0).then([]);
    const handled = given(...running({ attemptTimeoutMs: 10_000 })).when(tick, T0 + 10_000);
    given(...running({ attemptTimeoutMs: 10_000 }), ...handled.events).when(tick, T0 + 10_000).then([]);
  });

  it('results after a timeout are stale', () => {
    const timedOut = given(...running({ attemptTimeoutMs: 10_000 })).when(tick, T0 + 10_000).events;
    given(...running({ attemptTimeoutMs: 10_000 }), ...timedOut).when(result('AttemptFailed', { attempt: 1, workerId: 'w1', message: 'x', retriable: true })).then([]);
  });
});

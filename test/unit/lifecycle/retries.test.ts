import { describe, expect, it } from 'vitest';
import { backoffDelay, taskView } from '../../../processors/lifecycle/index.js';
import { event, result, running, T0, tick } from './fixtures.js';
import { given } from './given.js';

const failed = (attempt: number, retriable = true) => result('AttemptFailed', { attempt, workerId: 'w1', message: 'boom', retriable });

describe('backoff arithmetic', () => {
  const backoff = { initialMs: 1_000, multiplier: 2, maxMs: 60_000 };

  it('waits initialMs × multiplier^(n-1), capped at maxMs', () => {
    expect([1, 2, 3, 4, 6, 7, 8].map((n) => backoffDelay(backoff, n))).toEqual([1_000, 2_000, 4_000, 8_000, 32_000, 60_000, 60_000]);
  });

  it('rounds fractional waits to whole milliseconds and keeps a constant backoff constant', () => {
    expect(backoffDelay({ initialMs: 500, multiplier: 1.5, maxMs: 10_000 }, 3)).toBe(1_125);
    // A zero first wait and an overflowing power: 0 × Infinity must not become a NaN deadline.
    expect(backoffDelay({ initialMs: 0, multiplier: 1e200, maxMs: 0 }, 3)).toBe(0);
    expect(backoffDelay({ initialMs: 1, multiplier: 1e200, maxMs: 5_000 }, 3)).toBe(5_000);
    expect(backoffDelay({ initialMs: 333, multiplier: 1.1, maxMs: 10_000 }, 2)).toBe(366);
    expect(backoffDelay({ initialMs: 700, multiplier: 1, maxMs: 10_000 }, 9)).toBe(700);
  });

  it('an overflowing power is just the cap', () => {
    expect(backoffDelay(backoff, 10_000)).toBe(60_000);
  });
});

describe('retries (rule 4)', () => {
  const three = running({ maxAttempts: 3 });

  it('a retriable failure with attempts left queues the task again after the backoff', () => {
    const { state } = given(...three).when(failed(1), T0 + 100).then([
      event('AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: T0 + 1_100 }),
    ]);
    expect(taskView(state)).toMatchObject({ status: 'Available', retryAt: T0 + 1_100, attemptFailure: { attempt: 1, reason: 'error' } });
  });

  it('the tick at retryAt dispatches the next attempt, bounded by the task deadline', () => {
    const waiting = given(...three).at(T0 + 100, event('AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: T0 + 1_100 }));
    waiting.when(tick, T0 + 1_099).then([]);
    waiting.when(tick, T0 + 1_100).then([event('AttemptDispatched', { attempt: 2, deadlineAt: T0 + 300_000 })]);
    const bounded = given(...running({ maxAttempts: 3, attemptTimeoutMs: 20_000 }), event('AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: T0 + 1_000 }));
    bounded.when(tick, T0 + 1_000).then([event('AttemptDispatched', { attempt: 2, deadlineAt: T0 + 21_000 })]);
  });

  it('the second failure waits twice as long', () => {
    const second = [
      ...three,
      event('AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: T0 + 1_000 }),
      event('AttemptDispatched', { attempt: 2, deadlineAt: T0 + 300_000 }),
      event('AttemptStarted', { attempt: 2, workerId: 'w2', heartbeatDeadlineAt: null }),
    ];
    given(...second).when(failed(2), T0 + 5_000).then([
      event('AttemptFailed', { attempt: 2, reason: 'error', message: 'boom', retryAt: T0 + 7_000 }),
    ]);
  });

  it('the last attempt failing fails the task with reason error and starts the rollback', () => {
    const last = [
      ...running({ maxAttempts: 2 }),
      event('AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: T0 + 1_000 }),
      event('AttemptDispatched', { attempt: 2, deadlineAt: T0 + 300_000 }),
    ];
    given(...last).when(failed(2), T0 + 2_000).then([
      // Attempt 2 was dispatched but its start never reported: recorded with its failure.
      event('AttemptStarted', { attempt: 2, workerId: 'w1', heartbeatDeadlineAt: null }),
      event('AttemptFailed', { attempt: 2, reason: 'error', message: 'boom', retryAt: null }),
      event('TaskFailed', { reason: 'error', message: 'boom (attempt 2 of 2)' }),
      event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 302_000 }),
    ]);
  });

  it('a non-retriable failure fails the task even with attempts left', () => {
    given(...three).when(failed(1, false), T0 + 10).then([
      event('AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: null }),
      event('TaskFailed', { reason: 'error', message: 'boom (not retriable)' }),
      event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 300_010 }),
    ]);
  });

  it('the default policy is one attempt: the first failure is final', () => {
    expect(given(...running()).when(failed(1), T0).events.map((e) => e.type)).toEqual(['AttemptFailed', 'TaskFailed', 'RollbackDispatched']);
  });

  it('the task deadline beats the remaining retries', () => {
    const tight = running({ maxAttempts: 5, timeoutMs: 10_000, retryBackoff: { initialMs: 5_000, multiplier: 2, maxMs: 60_000 } });
    given(...tight).when(failed(1), T0 + 4_999).then([
      event('AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: T0 + 9_999 }),
    ]);
    given(...tight).when(failed(1), T0 + 5_000).then([
      event('AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: null }),
      event('TaskFailed', { reason: 'error', message: 'boom (no time left before the task deadline to retry)' }),
      event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 5_000 + 30_000 }),
    ]);
  });

  it('an attempt timeout with attempts left is retried, reason timeout', () => {
    given(...running({ maxAttempts: 2, attemptTimeoutMs: 10_000 })).when(tick, T0 + 10_000).then([
      event('AttemptFailed', { attempt: 1, reason: 'timeout', message: 'attempt 1 timed out', retryAt: T0 + 11_000 }),
    ]);
  });
});

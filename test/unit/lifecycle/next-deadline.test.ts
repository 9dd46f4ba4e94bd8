import { describe, expect, it } from 'vitest';
import { initialState, nextDeadline } from '../../../processors/lifecycle/index.js';
import { accepted, event, rollingBack, running, T0 } from './fixtures.js';
import { given } from './given.js';

const HOUR = 3_600_000;

describe('nextDeadline, phase by phase', () => {
  it('no task, no tick', () => {
    expect(nextDeadline(initialState)).toBeNull();
  });

  it('a queued attempt: the earlier of the attempt and task deadlines', () => {
    expect(nextDeadline(given(...accepted()).state)).toBe(T0 + 300_000);
    expect(nextDeadline(given(...accepted({ attemptTimeoutMs: 10_000 })).state)).toBe(T0 + 10_000);
  });

  it('a running attempt: the heartbeat deadline when it is the earliest', () => {
    expect(nextDeadline(given(...running({ attemptTimeoutMs: 10_000, heartbeatTimeoutMs: 3_000 })).state)).toBe(T0 + 3_000);
    expect(nextDeadline(given(...running({ attemptTimeoutMs: 2_000, heartbeatTimeoutMs: 3_000 })).state)).toBe(T0 + 2_000);
  });

  it('a retry waiting: its time', () => {
    const waiting = [...running({ maxAttempts: 2 }), event('AttemptFailed', { attempt: 1, reason: 'error', message: 'x', retryAt: T0 + 1_000 })];
    expect(nextDeadline(given(...waiting).state)).toBe(T0 + 1_000);
  });

  it('a retry that would come after the task deadline yields to it', () => {
    const waiting = [...running({ maxAttempts: 2, timeoutMs: 500 }), event('AttemptFailed', { attempt: 1, reason: 'error', message: 'x', retryAt: T0 + 1_000 })];
    expect(nextDeadline(given(...waiting).state)).toBe(T0 + 500);
  });

  it('a completed task: its expunge time', () => {
    const completed = [...running(), event('AttemptSucceeded', { attempt: 1, output: '1' }), event('TaskCompleted', { output: '1' })];
    expect(nextDeadline(given(...completed).state)).toBe(T0 + HOUR);
  });

  it('a rollback running: its deadline; waiting: its retry time; done: the expunge time; failed: none', () => {
    expect(nextDeadline(given(...rollingBack({ attemptTimeoutMs: 40_000 })).state)).toBe(T0 + 40_000);
    expect(nextDeadline(given(...rollingBack(), event('RollbackFailed', { rollbackAttempt: 1, message: 'x', retryAt: T0 + 1_000 })).state)).toBe(T0 + 1_000);
    expect(nextDeadline(given(...rollingBack(), event('RollbackSucceeded', { rollbackAttempt: 1 })).state)).toBe(T0 + HOUR);
    expect(nextDeadline(given(...rollingBack(), event('RollbackFailed', { rollbackAttempt: 1, message: 'x', retryAt: null })).state)).toBeNull();
  });

  it('a failed task before its rollback is dispatched has nothing due (the dispatch follows in the same batch)', () => {
    expect(nextDeadline(given(...running(), event('TaskFailed', { reason: 'error', message: 'x' })).state)).toBeNull();
  });

  it('a rejected submission: its expunge time', () => {
    expect(nextDeadline(given(event('TaskRejected', { code: 'X', message: 'x' })).state)).toBe(T0 + HOUR);
  });
});

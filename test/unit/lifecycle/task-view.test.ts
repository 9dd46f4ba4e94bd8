import { describe, expect, it } from 'vitest';
import { initialState, taskView } from '../../../processors/lifecycle/index.js';
import { event, rollingBack, running, spec, T0 } from './fixtures.js';
import { given } from './given.js';

describe('taskView, the read model for get', () => {
  it('no task: null', () => {
    expect(taskView(initialState)).toBeNull();
  });

  it('a rejected submission: status Rejected with its reason', () => {
    expect(taskView(given(event('TaskRejected', { code: 'UNKNOWN_KIND', message: 'x' })).state)).toMatchObject({
      status: 'Rejected', rollback: null, task: null, rejection: { code: 'UNKNOWN_KIND', message: 'x' }, sequence: 1,
    });
  });

  it('a running task: its attempt, worker and next deadline', () => {
    expect(taskView(given(...running({ heartbeatTimeoutMs: 1_000 })).state)).toEqual({
      status: 'InProgress', rollback: null, task: spec({ heartbeatTimeoutMs: 1_000 }), attempt: 1, workerId: 'w1', progress: null,
      attemptFailure: null, failure: null, rejection: null, output: null, rollbackAttempt: 0, rollbackError: null,
      deadlineAt: T0 + 300_000, retryAt: null, rollbackRetryAt: null, expungeAt: null, nextDeadlineAt: T0 + 1_000, sequence: 3,
    });
  });

  it('a failed task: the failure and where its rollback stands', () => {
    const failing = [...rollingBack(), event('RollbackFailed', { rollbackAttempt: 1, message: 'agent down', retryAt: T0 + 1_000 })];
    expect(taskView(given(...failing).state)).toMatchObject({
      status: 'Failed', rollback: 'pending', failure: { reason: 'error' }, attemptFailure: { attempt: 1, reason: 'error', message: 'boom' },
      rollbackAttempt: 1, rollbackError: 'agent down', rollbackRetryAt: T0 + 1_000, nextDeadlineAt: T0 + 1_000,
    });
  });
});

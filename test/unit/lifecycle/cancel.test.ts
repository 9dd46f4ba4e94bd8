import { describe, expect, it } from 'vitest';
import { taskView } from '../../../processors/lifecycle/index.js';
import { accepted, cancel, event, result, rollingBack, running, T0 } from './fixtures.js';
import { given } from './given.js';

const rollback1 = event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + 300_000 });

describe('durable cancel (rule 10)', () => {
  it('a queued task fails at once and is still rolled back', () => {
    const { state } = given(...accepted()).when(cancel('no longer needed', 'ops'), T0).then([
      event('TaskFailed', { reason: 'cancelled', message: 'cancelled by ops: no longer needed' }),
      rollback1,
    ]);
    expect(taskView(state)).toMatchObject({ status: 'Failed', rollback: 'running', failure: { reason: 'cancelled' } });
  });

  it('a task waiting for a retry is queued too', () => {
    const waiting = [...running({ maxAttempts: 2 }), event('AttemptFailed', { attempt: 1, reason: 'error', message: 'x', retryAt: T0 + 1_000 })];
    given(...waiting).when(cancel()).then([event('TaskFailed', { reason: 'cancelled', message: 'cancelled' }), rollback1]);
  });

  it('a running task has its attempt fenced, then fails and is rolled back', () => {
    given(...running()).when(cancel(null, 'ops')).then([
      event('AttemptFailed', { attempt: 1, reason: 'cancelled', message: 'cancelled by ops', retryAt: null }),
      event('TaskFailed', { reason: 'cancelled', message: 'cancelled by ops' }),
      rollback1,
    ]);
  });

  it('the fenced attempt cannot undo the cancel: its failure is ignored, its success re-runs the rollback', () => {
    const cancelled = given(...running()).when(cancel()).events;
    given(...running(), ...cancelled).when(result('AttemptFailed', { attempt: 1, workerId: 'w1', message: 'x', retriable: true })).then([]);
    given(...running(), ...cancelled).when(result('AttemptSucceeded', { attempt: 1, workerId: 'w1', output: '1' })).then([
      event('RollbackDispatched', { rollbackAttempt: 2, deadlineAt: T0 + 300_000 }),
    ]);
  });

  it.each([
    ['Completed', [...running(), event('AttemptSucceeded', { attempt: 1, output: '1' }), event('TaskCompleted', { output: '1' })], 'the task is already Completed'],
    ['Failed', rollingBack(), 'the task is already Failed/running'],
    ['Rejected', [event('TaskRejected', { code: 'UNKNOWN_KIND', message: 'x' })], 'the task was rejected'],
  ])('a %s task cannot be cancelled', (_name, history, message) => {
    given(...history).when(cancel()).then([event('CommandRejected', { command: 'CancelTask', code: 'TASK_NOT_CANCELLABLE', message })]);
  });

  it('a task that does not exist cannot be cancelled, and stays absent', () => {
    const { state } = given().when(cancel()).then([event('CommandRejected', { command: 'CancelTask', code: 'TASK_NOT_FOUND', message: 'no such task' })]);
    expect(state).toEqual({ phase: 'Absent' });
  });
});

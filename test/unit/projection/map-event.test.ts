import { describe, expect, it } from 'vitest';
import { advance, createdRow, eventRow, isCreating } from '../../../processors/projection/map-event.js';
import type { TaskRow } from '../../../processors/projection/rows.js';
import type { TaskEventMessage } from '../../../schemas/index.js';
import { T0, TASK_ID, TaskLife } from './fixtures.js';

type NonCreating = Exclude<TaskEventMessage, { type: 'TaskSubmitted' | 'TaskRejected' }>;

/** The row after a submission, then `steps` applied in order. */
function rowAfter(life: TaskLife, ...steps: [NonCreating['type'], unknown][]): TaskRow {
  const submitted = life.submitted();
  let row = createdRow(submitted.event as Extract<TaskEventMessage, { type: 'TaskSubmitted' }>, submitted.at);
  for (const [type, body] of steps) {
    const next = life.at(type, body as never);
    row = advance(row, next.event as NonCreating, next.at);
  }
  return row;
}

describe('createdRow', () => {
  it('a submission starts an Available row with the task’s facts, created and updated at the event time', () => {
    const { event, at } = new TaskLife().submitted({ payload: '{"a":1}', maxAttempts: 2, origin: { type: 'webhook', target: 'https://x' } });
    expect(isCreating(event)).toBe(true);
    expect(createdRow(event as Extract<TaskEventMessage, { type: 'TaskSubmitted' }>, at)).toEqual({
      id: TASK_ID, kind: 'probe', action: 'run', payload: '{"a":1}', originType: 'webhook', originTarget: 'https://x', idempotencyKey: 'key-1', maxAttempts: 2,
      deadlineAt: T0 + 60_000, createdAt: event.time, status: 'Available', rollback: null, failureReason: null, failureMessage: null, rejectionCode: null,
      rejectionMessage: null, attempts: 0, workerId: null, progressPercent: null, progressMessage: null, attemptError: null, retryAt: null, rollbackAttempts: 0,
      rollbackError: null, output: null, updatedAt: event.time, lastSequence: 1, lastPartition: 1, lastOffset: 100,
    });
  });

  it('a rejection starts a Rejected row with its code and message and none of an accepted task’s facts', () => {
    const { event, at } = new TaskLife().at('TaskRejected', { code: 'UNKNOWN_KIND', message: 'no such kind' });
    expect(createdRow(event as Extract<TaskEventMessage, { type: 'TaskRejected' }>, at)).toMatchObject({
      status: 'Rejected', rejectionCode: 'UNKNOWN_KIND', rejectionMessage: 'no such kind', kind: null, action: null, payload: null, originType: null, idempotencyKey: null,
    });
  });
});

describe('advance', () => {
  it('moves through an attempt: dispatched, started, progress, completed', () => {
    const life = new TaskLife();
    expect(rowAfter(life, ['AttemptDispatched', { attempt: 1, deadlineAt: T0 }])).toMatchObject({ status: 'Available', attempts: 1 });
    expect(rowAfter(new TaskLife(), ['AttemptDispatched', { attempt: 1, deadlineAt: T0 }], ['AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }])).toMatchObject({ status: 'InProgress', workerId: 'w' });
    const progressed = rowAfter(new TaskLife(), ['AttemptDispatched', { attempt: 1, deadlineAt: T0 }], ['AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }], ['AttemptProgressed', { attempt: 1, percent: 50, message: 'half' }]);
    expect(progressed).toMatchObject({ status: 'InProgress', progressPercent: 50, progressMessage: 'half' });
    const done = rowAfter(new TaskLife(), ['AttemptDispatched', { attempt: 1, deadlineAt: T0 }], ['AttemptSucceeded', { attempt: 1, output: '{"r":1}' }], ['TaskCompleted', { output: '{"r":1}' }]);
    expect(done).toMatchObject({ status: 'Completed', output: '{"r":1}', lastSequence: 4, lastOffset: 103 });
  });

  it('a failed attempt with a retry makes the task Available again; without one the status waits for TaskFailed', () => {
    const started: [NonCreating['type'], unknown][] = [['AttemptDispatched', { attempt: 1, deadlineAt: T0 }], ['AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }]];
    expect(rowAfter(new TaskLife(), ...started, ['AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: T0 + 5000 }])).toMatchObject({ status: 'Available', attemptError: 'boom', retryAt: T0 + 5000 });
    const noRetry = rowAfter(new TaskLife(), ...started, ['AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: null }]);
    expect(noRetry).toMatchObject({ status: 'InProgress', attemptError: 'boom', retryAt: null });
    const failed = rowAfter(new TaskLife(), ...started, ['AttemptFailed', { attempt: 1, reason: 'timeout', message: 'late', retryAt: null }], ['TaskFailed', { reason: 'timeout', message: 'late' }]);
    expect(failed).toMatchObject({ status: 'Failed', failureReason: 'timeout', failureMessage: 'late', rollback: 'pending' });
  });

  it('follows the rollback: running, pending again on a retry, failed when given up, done', () => {
    const failed: [NonCreating['type'], unknown][] = [['TaskFailed', { reason: 'cancelled', message: 'stop' }], ['RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 }]];
    expect(rowAfter(new TaskLife(), ...failed)).toMatchObject({ rollback: 'running', rollbackAttempts: 1 });
    expect(rowAfter(new TaskLife(), ...failed, ['RollbackFailed', { rollbackAttempt: 1, message: 'x', retryAt: T0 + 1 }])).toMatchObject({ rollback: 'pending', rollbackError: 'x' });
    expect(rowAfter(new TaskLife(), ...failed, ['RollbackFailed', { rollbackAttempt: 1, message: 'y', retryAt: null }])).toMatchObject({ rollback: 'failed', rollbackError: 'y' });
    expect(rowAfter(new TaskLife(), ...failed, ['RollbackSucceeded', { rollbackAttempt: 1 }])).toMatchObject({ status: 'Failed', rollback: 'done' });
  });

  it('history-only events move the position and sequence, but no column a reader sees, not even updated_at', () => {
    const before = rowAfter(new TaskLife(), ['TaskFailed', { reason: 'error', message: 'e' }], ['RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 }], ['RollbackFailed', { rollbackAttempt: 1, message: 'y', retryAt: null }]);
    const life = new TaskLife(TASK_ID, 1, 104);
    for (const [type, body] of [
      ['RollbackRetryRequested', { requestedBy: 'ops' }],
      ['CommandRejected', { command: 'CancelTask', code: 'TASK_FINISHED', message: 'done' }],
      ['AttemptSucceeded', { attempt: 1, output: '{}' }],
      ['TaskExpunged', {}],
    ] as [NonCreating['type'], unknown][]) {
      const next = life.at(type, body as never);
      const after = advance(before, { ...(next.event as NonCreating), sequence: 9 }, next.at);
      expect(after, type).toEqual({ ...before, lastSequence: 9, lastOffset: next.at.offset });
    }
  });
});

describe('eventRow', () => {
  it('keeps the envelope, the body, and the attempt or rollback attempt the event is about', () => {
    const life = new TaskLife();
    const { event, at } = life.at('RollbackDispatched', { rollbackAttempt: 2, deadlineAt: T0 });
    expect(eventRow(event, at)).toEqual({
      partition: 1, offset: 100, eventId: event.eventId, taskId: TASK_ID, sequence: 1, type: 'RollbackDispatched', attempt: null, rollbackAttempt: 2,
      time: event.time, body: { rollbackAttempt: 2, deadlineAt: T0 }, causationId: null, correlationId: null,
    });
    expect(eventRow(life.at('AttemptStarted', { attempt: 3, workerId: 'w', heartbeatDeadlineAt: null }).event, at)).toMatchObject({ attempt: 3, rollbackAttempt: null });
  });
});

// What each lifecycle event means for the projection (processors/lifecycle/README.md):
// pure functions from an event and its log position to rows. Every change is an
// absolute value taken from the event, never derived from the previous row, so
// applying the same events in the same order always yields the same row.
import { StacklError } from '../../core/errors.js';
import type { TaskEventMessage } from '../../schemas/index.js';
import type { EventRow, LogPosition, TaskCurrent, TaskRow } from './rows.js';

type Creating = Extract<TaskEventMessage, { type: 'TaskSubmitted' | 'TaskRejected' }>;

/** TaskSubmitted and TaskRejected start a task's row (again, after an expunge). */
export function isCreating(event: TaskEventMessage): event is Creating {
  return event.type === 'TaskSubmitted' || event.type === 'TaskRejected';
}

export function eventRow(event: TaskEventMessage, at: LogPosition): EventRow {
  const body = event.body as { attempt?: number; rollbackAttempt?: number };
  return {
    partition: at.partition,
    offset: at.offset,
    eventId: event.eventId,
    taskId: event.taskId,
    sequence: event.sequence,
    type: event.type,
    attempt: body.attempt ?? null,
    rollbackAttempt: body.rollbackAttempt ?? null,
    time: event.time,
    body: event.body,
    causationId: event.causationId,
    correlationId: event.correlationId,
  };
}

/** The whole row a submission or a rejection starts: a new life of the task, nothing kept. */
export function createdRow(event: Creating, at: LogPosition): TaskRow {
  const blank: TaskRow = {
    id: event.taskId,
    kind: null,
    action: null,
    payload: null,
    originType: null,
    originTarget: null,
    idempotencyKey: null,
    maxAttempts: null,
    deadlineAt: null,
    createdAt: event.time,
    status: 'Available',
    rollback: null,
    failureReason: null,
    failureMessage: null,
    rejectionCode: null,
    rejectionMessage: null,
    attempts: 0,
    workerId: null,
    progressPercent: null,
    progressMessage: null,
    attemptError: null,
    retryAt: null,
    rollbackAttempts: 0,
    rollbackError: null,
    output: null,
    updatedAt: event.time,
    lastSequence: event.sequence,
    lastPartition: at.partition,
    lastOffset: at.offset,
  };
  if (event.type === 'TaskRejected') {
    return { ...blank, status: 'Rejected', rejectionCode: event.body.code, rejectionMessage: event.body.message };
  }
  const { task, deadlineAt } = event.body;
  return {
    ...blank,
    kind: task.kind,
    action: task.action,
    payload: task.payload,
    originType: task.origin.type,
    originTarget: task.origin.target,
    idempotencyKey: task.idempotencyKey,
    maxAttempts: task.maxAttempts,
    deadlineAt,
  };
}

/** The row after a non-creating event; `row` may carry the facts too, they pass through. */
export function advance<R extends TaskCurrent>(row: R, event: Exclude<TaskEventMessage, Creating>, at: LogPosition): R {
  const moved = { ...row, lastSequence: event.sequence, lastPartition: at.partition, lastOffset: at.offset };
  const changes = changesOf(event);
  // History-only events move the position but not updated_at: nothing a reader sees changed.
  return changes === null ? moved : { ...moved, ...changes, updatedAt: event.time };
}

function changesOf(event: Exclude<TaskEventMessage, Creating>): Partial<TaskCurrent> | null {
  switch (event.type) {
    case 'AttemptDispatched':
      return { attempts: event.body.attempt, workerId: null, progressPercent: null, progressMessage: null, retryAt: null };
    case 'AttemptStarted':
      return { status: 'InProgress', workerId: event.body.workerId };
    case 'AttemptProgressed':
      return { progressPercent: event.body.percent, progressMessage: event.body.message };
    case 'AttemptFailed':
      // Without a retry the status holds until the TaskFailed that follows.
      return event.body.retryAt === null
        ? { attemptError: event.body.message, retryAt: null }
        : { status: 'Available', attemptError: event.body.message, retryAt: event.body.retryAt };
    case 'TaskCompleted':
      return { status: 'Completed', output: event.body.output, retryAt: null };
    case 'TaskFailed':
      return { status: 'Failed', failureReason: event.body.reason, failureMessage: event.body.message, rollback: 'pending', retryAt: null };
    case 'RollbackDispatched':
      return { rollback: 'running', rollbackAttempts: event.body.rollbackAttempt };
    case 'RollbackSucceeded':
      return { rollback: 'done' };
    case 'RollbackFailed':
      return { rollback: event.body.retryAt === null ? 'failed' : 'pending', rollbackError: event.body.message };
    // The output lands with TaskCompleted; a retry request shows once its rollback is dispatched.
    case 'AttemptSucceeded':
    case 'RollbackRetryRequested':
    case 'CommandRejected':
    case 'TaskExpunged':
    case 'ReplyUndelivered':
      return null;
    default: {
      // A type outside the union: a record from a newer schema reached an older projector.
      const unknown: never = event;
      throw new StacklError('PROJECTION_UNKNOWN_EVENT', `unknown task event ${JSON.stringify(unknown)}`);
    }
  }
}

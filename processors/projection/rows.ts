// The projection's rows as plain data, one field per column (migrations 0001 and 0002).
// Times are epoch milliseconds and offsets plain numbers (exact up to 2^53), so the
// mapping code stays pure and testable; sql-values.ts converts at the database edge.
import type { FailureReason, OriginType, TaskEventType } from '../../schemas/index.js';
import type { RollbackStatus, TaskStatus } from '../lifecycle/index.js';

/** The seed's four statuses, plus the refused submissions the projection also lists. */
export type ProjectedStatus = TaskStatus | 'Rejected';

/** Where an event sits in task.events. A task always lives on one partition. */
export interface LogPosition {
  partition: number;
  offset: number;
}

/** Columns fixed when the task is submitted (or rejected); later events never touch them. */
export interface TaskFacts {
  id: string;
  kind: string | null;
  action: string | null;
  /** JSON text. */
  payload: string | null;
  originType: OriginType | null;
  originTarget: string | null;
  idempotencyKey: string | null;
  maxAttempts: number | null;
  deadlineAt: number | null;
  createdAt: number;
}

/** Columns the task's events move. */
export interface TaskCurrent {
  id: string;
  status: ProjectedStatus;
  rollback: RollbackStatus | null;
  failureReason: FailureReason | null;
  failureMessage: string | null;
  rejectionCode: string | null;
  rejectionMessage: string | null;
  /** Number of the latest attempt dispatched; 0 before the first. */
  attempts: number;
  workerId: string | null;
  progressPercent: number | null;
  progressMessage: string | null;
  /** Message of the latest failed attempt. */
  attemptError: string | null;
  /** When the next attempt is dispatched, while a retry waits. */
  retryAt: number | null;
  rollbackAttempts: number;
  rollbackError: string | null;
  /** JSON text. */
  output: string | null;
  /** Time of the last event that changed a column other than the position. */
  updatedAt: number;
  lastSequence: number;
  lastPartition: number;
  lastOffset: number;
}

export type TaskRow = TaskFacts & TaskCurrent;

/** One row of task_events: the event as it sits in the log. */
export interface EventRow {
  partition: number;
  offset: number;
  eventId: string;
  taskId: string;
  sequence: number;
  type: TaskEventType;
  attempt: number | null;
  rollbackAttempt: number | null;
  time: number;
  /** The decoded event body (stored as jsonb). */
  body: unknown;
  causationId: string | null;
  correlationId: string | null;
}

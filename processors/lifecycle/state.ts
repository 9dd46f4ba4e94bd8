import type { FailureReason, TaskSpec } from '../../schemas/index.js';

// The state of one task as the decider sees it. Plain data only (numbers, strings,
// null): the runtime stores it as JSON in a compacted changelog and reads it back.

/** The seed's four statuses. */
export type TaskStatus = 'Available' | 'InProgress' | 'Completed' | 'Failed';

/** Where a failed task's rollback stands; null while the task has not failed. */
export type RollbackStatus = 'pending' | 'running' | 'done' | 'failed';

export interface Failure {
  reason: FailureReason;
  message: string;
}

/** No such task: never submitted, or expunged. */
export interface AbsentState {
  phase: 'Absent';
}

/** A submission that was refused. Kept until its expunge time so a duplicate submission changes nothing. */
export interface RejectedState {
  phase: 'Rejected';
  /** Sequence number of the last event applied. */
  sequence: number;
  code: string;
  message: string;
  rejectedAt: number;
  expungeAt: number;
}

export interface LiveState {
  phase: 'Live';
  /** Sequence number of the last event applied; the adapter numbers envelopes with it. */
  sequence: number;
  /** `now` of the last event applied. */
  updatedAt: number;
  task: TaskSpec;
  status: TaskStatus;
  /** Non-null exactly when status is Failed. */
  rollback: RollbackStatus | null;
  /** Whole-task deadline (absolute epoch ms). */
  deadlineAt: number;
  /** Current attempt number, the fencing token; 0 before the first dispatch. */
  attempt: number;
  /** Deadline of the outstanding attempt; null when no attempt is outstanding. */
  attemptDeadlineAt: number | null;
  /** When the running attempt times out unless its worker reports; null = not required or not running. */
  heartbeatDeadlineAt: number | null;
  /** When the next attempt is dispatched; null = no retry waiting. */
  retryAt: number | null;
  /** Worker that reported the current attempt started; null = not seen started. */
  workerId: string | null;
  startedAt: number | null;
  progress: { percent: number; message: string | null } | null;
  /** Why the last failed attempt failed (kept while a retry waits, for the read model). */
  attemptFailure: (Failure & { attempt: number }) | null;
  /** Why the task failed; set with status Failed. */
  failure: Failure | null;
  /** Output of the successful attempt (JSON text). */
  output: string | null;
  /** Current rollback attempt number, its fencing token; 0 before the first. */
  rollbackAttempt: number;
  rollbackDeadlineAt: number | null;
  rollbackRetryAt: number | null;
  /** Message of the last failed rollback attempt. */
  rollbackError: string | null;
  /** When the task leaves processor state; set only while terminal and consistent. */
  expungeAt: number | null;
}

/**
 * A task expunged less than the idempotency window ago: its id, hence its idempotency key,
 * is spent, so a producer's retry of the submission changes nothing. No event leads here:
 * the adapter remembers expunged ids (compactly) and hands this state in for them.
 */
export interface RetiredState {
  phase: 'Retired';
}

export type TaskState = AbsentState | RejectedState | LiveState | RetiredState;

export const initialState: TaskState = Object.freeze({ phase: 'Absent' });

export const retiredState: TaskState = Object.freeze({ phase: 'Retired' });

/** Sequence number of the last event applied to this task; 0 for a task that does not exist (or no longer does). */
export function sequenceOf(state: TaskState): number {
  return state.phase === 'Absent' || state.phase === 'Retired' ? 0 : state.sequence;
}

/** True while an attempt has been dispatched and has neither finished nor failed. */
export function attemptOutstanding(state: LiveState): boolean {
  return (state.status === 'Available' || state.status === 'InProgress') && state.attemptDeadlineAt !== null;
}

/** Completed or Failed: no more attempts will run. */
export function isTerminal(state: LiveState): boolean {
  return state.status === 'Completed' || state.status === 'Failed';
}

import type { TaskSpec } from '../../schemas/index.js';
import { assertNever } from './never.js';
import { nextDeadline } from './next-deadline.js';
import type { Failure, RollbackStatus, TaskState, TaskStatus } from './state.js';

/** The read model behind `get`: what an operator or a client wants to see of one task. */
export interface TaskView {
  /** The seed's four statuses, or Rejected for a submission that never became a task. */
  status: TaskStatus | 'Rejected';
  rollback: RollbackStatus | null;
  /** Null for a rejected submission. */
  task: TaskSpec | null;
  attempt: number;
  workerId: string | null;
  progress: { percent: number; message: string | null } | null;
  /** Why the last failed attempt failed. */
  attemptFailure: (Failure & { attempt: number }) | null;
  /** Why the task failed (status Failed). */
  failure: Failure | null;
  /** Why the submission was refused (status Rejected). */
  rejection: { code: string; message: string } | null;
  output: string | null;
  rollbackAttempt: number;
  rollbackError: string | null;
  deadlineAt: number | null;
  retryAt: number | null;
  rollbackRetryAt: number | null;
  expungeAt: number | null;
  nextDeadlineAt: number | null;
  sequence: number;
}

/** The fields a task lacks before it exists as one: a rejected submission shows these. */
const unaccepted = {
  rollback: null,
  task: null,
  attempt: 0,
  workerId: null,
  progress: null,
  attemptFailure: null,
  failure: null,
  output: null,
  rollbackAttempt: 0,
  rollbackError: null,
  deadlineAt: null,
  retryAt: null,
  rollbackRetryAt: null,
} as const;

export function taskView(state: TaskState): TaskView | null {
  switch (state.phase) {
    case 'Absent':
    case 'Retired':
      return null;
    case 'Rejected': {
      const { code, message, expungeAt, sequence } = state;
      return { ...unaccepted, status: 'Rejected', rejection: { code, message }, expungeAt, nextDeadlineAt: nextDeadline(state), sequence };
    }
    case 'Live': {
      const { status, rollback, task, attempt, workerId, progress, attemptFailure, failure, output } = state;
      const { rollbackAttempt, rollbackError, deadlineAt, retryAt, rollbackRetryAt, expungeAt, sequence } = state;
      return {
        status, rollback, task, attempt, workerId, progress, attemptFailure, failure, rejection: null, output,
        rollbackAttempt, rollbackError, deadlineAt, retryAt, rollbackRetryAt, expungeAt, nextDeadlineAt: nextDeadline(state), sequence,
      };
    }
    default:
      return assertNever(state, 'task state');
  }
}

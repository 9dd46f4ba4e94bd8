// The outcome of a task as a webhook receives it: one JSON document, built when the
// outcome is decided and posted as it is by the notifier (the signature covers these
// bytes). It says everything a receiver needs without calling back: how the task ended,
// its output or why it failed, where its rollback stands, and when.
import type { SubmitTask } from '../../schemas/index.js';
import type { LiveState } from './state.js';
import type { LifecycleEvent } from './types.js';

export interface OutcomeDocument {
  deliveryId: string;
  taskId: string;
  kind: string;
  action: string;
  status: 'Completed' | 'Failed' | 'Rejected';
  /** The event that decided the outcome. */
  decidedBy: LifecycleEvent['type'];
  output: unknown;
  failure: { reason: string; message: string } | null;
  rollback: 'done' | 'failed' | null;
  rollbackError: string | null;
  attempts: number;
  rollbackAttempts: number;
  submittedAt: string | null;
  decidedAt: string;
}

/** The outcome of a live task, once `event` (TaskCompleted, RollbackSucceeded, RollbackFailed) is folded into `state`. */
export function liveOutcome(deliveryId: string, event: LifecycleEvent, state: LiveState, now: number): string {
  const failed = state.status === 'Failed';
  const document: OutcomeDocument = {
    deliveryId,
    taskId: state.task.id,
    kind: state.task.kind,
    action: state.task.action,
    status: failed ? 'Failed' : 'Completed',
    decidedBy: event.type,
    output: state.output === null ? null : (JSON.parse(state.output) as unknown),
    failure: state.failure === null ? null : { reason: state.failure.reason, message: state.failure.message },
    rollback: state.rollback === 'done' || state.rollback === 'failed' ? state.rollback : null,
    rollbackError: state.rollbackError,
    attempts: state.attempt,
    rollbackAttempts: state.rollbackAttempt,
    submittedAt: new Date(state.task.submittedAt).toISOString(),
    decidedAt: new Date(now).toISOString(),
  };
  return JSON.stringify(document);
}

/** The outcome of a submission refused before it became a task. */
export function rejectedOutcome(deliveryId: string, taskId: string, submission: SubmitTask, rejection: { code: string; message: string }, now: number): string {
  const document: OutcomeDocument = {
    deliveryId,
    taskId,
    kind: submission.kind,
    action: submission.action,
    status: 'Rejected',
    decidedBy: 'TaskRejected',
    output: null,
    failure: { reason: rejection.code, message: rejection.message },
    rollback: null,
    rollbackError: null,
    attempts: 0,
    rollbackAttempts: 0,
    submittedAt: null,
    decidedAt: new Date(now).toISOString(),
  };
  return JSON.stringify(document);
}

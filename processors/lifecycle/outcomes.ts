import type { FailureReason, TaskSpec } from '../../schemas/index.js';
import { backoffDelay } from './backoff.js';
import type { LiveState } from './state.js';
import type { LifecycleEvent } from './types.js';

// Event builders shared by the decide-* modules, so each rule's arithmetic lives in one place.

/** An attempt never outlives its task: its deadline is the earlier of the two. */
export function dispatchAttempt(task: TaskSpec, taskDeadlineAt: number, attempt: number, now: number): LifecycleEvent {
  const own = task.attemptTimeoutMs === null ? taskDeadlineAt : now + task.attemptTimeoutMs;
  return { type: 'AttemptDispatched', body: { attempt, deadlineAt: Math.min(taskDeadlineAt, own) } };
}

/**
 * The shortest deadline a rollback attempt gets. A rollback runs when things went wrong —
 * often under load or right after a fault — and its order may queue behind others; tying its
 * deadline to a short task timeout (6 s, say) made rollbacks expire in the queue again and
 * again and left tasks unfinished for minutes. Rollback is also the step that must finish.
 */
const MIN_ROLLBACK_ATTEMPT_MS = 30_000;

/**
 * A rollback attempt gets the time of one attempt (or of the whole task when attempts have
 * no timeout of their own), never less than MIN_ROLLBACK_ATTEMPT_MS; the task deadline has
 * passed or no longer matters.
 */
function rollbackAttemptTimeoutMs(task: TaskSpec): number {
  return Math.max(task.attemptTimeoutMs ?? task.timeoutMs, MIN_ROLLBACK_ATTEMPT_MS);
}

export function dispatchRollback(state: LiveState, now: number): LifecycleEvent {
  const deadlineAt = now + rollbackAttemptTimeoutMs(state.task);
  return { type: 'RollbackDispatched', body: { rollbackAttempt: state.rollbackAttempt + 1, deadlineAt } };
}

/** TaskFailed always comes with the first (or next) rollback attempt: rollback is work to dispatch. */
export function failTask(state: LiveState, reason: FailureReason, message: string, now: number): LifecycleEvent[] {
  return [{ type: 'TaskFailed', body: { reason, message } }, dispatchRollback(state, now)];
}

export interface AttemptFailure {
  reason: 'error' | 'timeout';
  message: string;
  retriable: boolean;
}

/**
 * The current attempt failed. It is retried when the failure allows it, attempts remain and
 * the retry would start before the task deadline; otherwise the task fails for the same reason.
 */
export function failAttempt(state: LiveState, failure: AttemptFailure, now: number): LifecycleEvent[] {
  const { attempt, task } = state;
  const retryAt = now + backoffDelay(task.retryBackoff, attempt);
  const attemptsLeft = attempt < task.maxAttempts;
  if (failure.retriable && attemptsLeft && retryAt < state.deadlineAt) {
    return [{ type: 'AttemptFailed', body: { attempt, reason: failure.reason, message: failure.message, retryAt } }];
  }
  const why = !failure.retriable
    ? 'not retriable'
    : !attemptsLeft
      ? `attempt ${attempt} of ${task.maxAttempts}`
      : 'no time left before the task deadline to retry';
  return [
    { type: 'AttemptFailed', body: { attempt, reason: failure.reason, message: failure.message, retryAt: null } },
    ...failTask(state, failure.reason, `${failure.message} (${why})`, now),
  ];
}

/** The current rollback attempt failed: retry with the rollback backoff, or give up and leave it to an operator. */
export function failRollback(state: LiveState, message: string, now: number): LifecycleEvent {
  const n = state.rollbackAttempt;
  const retryAt = n < state.task.rollbackMaxAttempts ? now + backoffDelay(state.task.rollbackBackoff, n) : null;
  return { type: 'RollbackFailed', body: { rollbackAttempt: n, message, retryAt } };
}

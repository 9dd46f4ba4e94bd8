import { assertNever } from './never.js';
import { dispatchAttempt, dispatchRollback, failAttempt, failRollback, failTask } from './outcomes.js';
import { attemptOutstanding, type LiveState, type TaskState } from './state.js';
import type { LifecycleEvent } from './types.js';

/**
 * The timer fired: act on whatever is due at `now`, by the absolute times in state. Every
 * check is "still in that phase and its time has come", so a duplicate or early tick
 * emits nothing, and a late one still does the right single thing.
 */
export function decideTick(state: TaskState, now: number): LifecycleEvent[] {
  switch (state.phase) {
    case 'Absent':
    case 'Retired':
      return [];
    case 'Rejected':
      return now >= state.expungeAt ? [{ type: 'TaskExpunged', body: {} }] : [];
    case 'Live':
      return tickLive(state, now);
    default:
      return assertNever(state, 'task state');
  }
}

function tickLive(state: LiveState, now: number): LifecycleEvent[] {
  switch (state.status) {
    case 'Available':
    case 'InProgress':
      return tickActive(state, now);
    case 'Completed':
      return expungeIfDue(state, now);
    case 'Failed':
      return tickFailed(state, now);
    default:
      return assertNever(state.status, 'status');
  }
}

function tickActive(state: LiveState, now: number): LifecycleEvent[] {
  const outstanding = attemptOutstanding(state);
  // The task deadline beats everything else: no retry, no further attempt.
  if (now >= state.deadlineAt) {
    const message = `task timed out after ${state.task.timeoutMs} ms`;
    const fence: LifecycleEvent[] = outstanding
      ? [{ type: 'AttemptFailed', body: { attempt: state.attempt, reason: 'timeout', message, retryAt: null } }]
      : [];
    return [...fence, ...failTask(state, 'timeout', message, now)];
  }
  if (outstanding && state.attemptDeadlineAt !== null && now >= state.attemptDeadlineAt) {
    return failAttempt(state, { reason: 'timeout', message: `attempt ${state.attempt} timed out`, retriable: true }, now);
  }
  if (outstanding && state.heartbeatDeadlineAt !== null && now >= state.heartbeatDeadlineAt) {
    const message = `no heartbeat for ${state.task.heartbeatTimeoutMs} ms from attempt ${state.attempt}`;
    return failAttempt(state, { reason: 'timeout', message, retriable: true }, now);
  }
  if (!outstanding && state.retryAt !== null && now >= state.retryAt) {
    return [dispatchAttempt(state.task, state.deadlineAt, state.attempt + 1, now)];
  }
  return [];
}

function tickFailed(state: LiveState, now: number): LifecycleEvent[] {
  switch (state.rollback) {
    case 'running':
      return state.rollbackDeadlineAt !== null && now >= state.rollbackDeadlineAt
        ? [failRollback(state, `rollback attempt ${state.rollbackAttempt} timed out`, now)]
        : [];
    case 'pending':
      return state.rollbackRetryAt !== null && now >= state.rollbackRetryAt ? [dispatchRollback(state, now)] : [];
    case 'done':
      return expungeIfDue(state, now);
    case 'failed':
    case null:
      // Given up: it waits for an operator, however long that takes.
      return [];
    default:
      return assertNever(state.rollback, 'rollback status');
  }
}

function expungeIfDue(state: LiveState, now: number): LifecycleEvent[] {
  return state.expungeAt !== null && now >= state.expungeAt ? [{ type: 'TaskExpunged', body: {} }] : [];
}

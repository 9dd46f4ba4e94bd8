import { assertNever } from './never.js';
import type { LiveState, TaskState } from './state.js';

/**
 * The earliest absolute time at which the runtime must deliver a 'tick', or null when no
 * time can change this task (absent, or waiting for an operator). Only the times that
 * matter in the current phase count, so a stale field can never cause a busy loop.
 */
export function nextDeadline(state: TaskState): number | null {
  switch (state.phase) {
    case 'Absent':
    case 'Retired':
      return null;
    case 'Rejected':
      return state.expungeAt;
    case 'Live':
      return earliest(dueTimes(state));
    default:
      return assertNever(state, 'task state');
  }
}

function dueTimes(state: LiveState): Array<number | null> {
  switch (state.status) {
    case 'Available':
    case 'InProgress':
      return [state.deadlineAt, state.attemptDeadlineAt, state.heartbeatDeadlineAt, state.retryAt];
    case 'Completed':
      return [state.expungeAt];
    case 'Failed':
      switch (state.rollback) {
        case 'running':
          return [state.rollbackDeadlineAt];
        case 'pending':
          return [state.rollbackRetryAt];
        case 'done':
          return [state.expungeAt];
        case 'failed':
        case null:
          return [];
        default:
          return assertNever(state.rollback, 'rollback status');
      }
    default:
      return assertNever(state.status, 'status');
  }
}

function earliest(times: Array<number | null>): number | null {
  const set = times.filter((time): time is number => time !== null);
  return set.length === 0 ? null : Math.min(...set);
}

import type { CancelTask, ReportUndelivered, RetryRollback, TaskRequestMessage } from '../../schemas/index.js';
import type { CommandRejectionCode } from './codes.js';
import { decideSubmit } from './decide-submit.js';
import { bounded, TEXT_LIMITS } from './limits.js';
import { assertNever } from './never.js';
import { dispatchRollback, failTask } from './outcomes.js';
import type { TaskState } from './state.js';
import { positionOf } from './transitions.js';
import type { DecideContext, LifecycleEvent } from './types.js';

export function decideCommand(message: TaskRequestMessage, state: TaskState, ctx: DecideContext): LifecycleEvent[] {
  switch (message.type) {
    case 'SubmitTask':
      return decideSubmit(message.taskId, message.body, state, ctx);
    case 'CancelTask':
      return decideCancel(message.body, state, ctx.now);
    case 'RetryRollback':
      return decideRetryRollback(message.body, state, ctx.now);
    case 'ReportUndelivered':
      return decideReportUndelivered(message.body, state);
    default:
      return assertNever(message, 'command');
  }
}

function rejected(command: string, code: CommandRejectionCode, message: string): LifecycleEvent[] {
  return [{ type: 'CommandRejected', body: { command, code, message } }];
}

/**
 * Cancel is durable: it is an event, so no later result can undo it. A queued task fails at
 * once, yet still gets a rollback: a worker may have taken the attempt without our seeing
 * it start, and rollback handlers are idempotent, so undoing nothing costs nothing.
 */
function decideCancel(body: CancelTask, state: TaskState, now: number): LifecycleEvent[] {
  if (state.phase === 'Absent') return rejected('CancelTask', 'TASK_NOT_FOUND', 'no such task');
  if (state.phase === 'Rejected') return rejected('CancelTask', 'TASK_NOT_CANCELLABLE', 'the task was rejected');
  if (state.phase === 'Retired') return rejected('CancelTask', 'TASK_NOT_CANCELLABLE', 'the task has ended and left the broker');
  const message = bounded(`cancelled${body.requestedBy === null ? '' : ` by ${body.requestedBy}`}${body.reason === null ? '' : `: ${body.reason}`}`);
  switch (state.status) {
    case 'Available':
      return failTask(state, 'cancelled', message, now);
    case 'InProgress':
      // Fence the running attempt first: its results are stale from here on.
      return [
        { type: 'AttemptFailed', body: { attempt: state.attempt, reason: 'cancelled', message, retryAt: null } },
        ...failTask(state, 'cancelled', message, now),
      ];
    case 'Completed':
    case 'Failed':
      return rejected('CancelTask', 'TASK_NOT_CANCELLABLE', `the task is already ${positionOf(state)}`);
    default:
      return assertNever(state.status, 'status');
  }
}

/** An operator retry gives the rollback one more attempt beyond its policy; failing again lists it again. */
function decideRetryRollback(body: RetryRollback, state: TaskState, now: number): LifecycleEvent[] {
  if (state.phase === 'Absent') return rejected('RetryRollback', 'TASK_NOT_FOUND', 'no such task');
  if (state.phase === 'Live' && state.status === 'Failed' && state.rollback === 'failed') {
    const requestedBy = body.requestedBy === null ? null : bounded(body.requestedBy, TEXT_LIMITS.name);
    return [{ type: 'RollbackRetryRequested', body: { requestedBy } }, dispatchRollback(state, now)];
  }
  return rejected('RetryRollback', 'ROLLBACK_NOT_FAILED', `the rollback has not failed (task is ${positionOf(state)})`);
}

/**
 * The notifier gave up on a webhook: the task records it, unchanged otherwise, so its
 * history says the outcome never reached the origin. A task no longer held (expunged, or
 * never known) has no history here to add to; the dead letter is the record then.
 */
function decideReportUndelivered(body: ReportUndelivered, state: TaskState): LifecycleEvent[] {
  if (state.phase !== 'Live' && state.phase !== 'Rejected') return [];
  return [{ type: 'ReplyUndelivered', body: { target: bounded(body.target, TEXT_LIMITS.originTarget), code: bounded(body.code, TEXT_LIMITS.name), message: bounded(body.message) } }];
}

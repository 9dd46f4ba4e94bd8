import { StacklError } from '../../core/errors.js';
import type { Origin } from '../../schemas/index.js';
import { assertNever } from './never.js';
import type { LiveState, TaskState } from './state.js';
import type { Effect, LifecycleEvent, LifecycleInput } from './types.js';

/**
 * What the adapter must write besides the event itself, in the same transaction: work
 * orders, outcome replies, the state tombstone. `after` is the state once the event is
 * folded in.
 *
 * `input` is needed for one case only: TaskRejected records no origin (the task was never
 * accepted), so its reply goes to the origin of the SubmitTask being rejected, unless the
 * origin itself was the reason. Without the input, a rejection is not replied to.
 */
export function effects(event: LifecycleEvent, after: TaskState, input?: LifecycleInput): Effect[] {
  switch (event.type) {
    case 'AttemptDispatched': {
      const { task } = live(after, event);
      return [{ type: 'dispatch', body: { type: 'RunAttempt', body: { task, ...event.body } } }];
    }
    case 'RollbackDispatched': {
      const { task, attempt } = live(after, event);
      return [{ type: 'dispatch', body: { type: 'RunRollback', body: { task, failedAttempt: attempt, ...event.body } } }];
    }
    case 'TaskCompleted':
    case 'RollbackSucceeded':
      return reply(live(after, event).task.origin);
    case 'RollbackFailed':
      // Only giving up is an outcome; a failed rollback attempt that will be retried is not.
      return event.body.retryAt === null ? reply(live(after, event).task.origin) : [];
    case 'TaskRejected': {
      // The decider checks the origin first, so any other rejection names an origin we may answer.
      const answer = input?.type === 'command' && input.message.type === 'SubmitTask' && event.body.code !== 'INVALID_ORIGIN' ? reply(input.message.body.origin) : [];
      // A task shed for load leaves the broker's state in the same transaction, with no
      // event of its own: under overload shed tasks are thousands a minute, and holding
      // each for the expunge grace made every restore of the state (and so every recovery
      // from a fault) slower. Its id stays spent as a retired key, so a retry under the
      // same key is still answered as before.
      return event.body.code === 'OVERLOADED' ? [...answer, { type: 'expunge' }] : answer;
    }
    case 'TaskExpunged':
      return [{ type: 'expunge' }];
    case 'TaskSubmitted':
    case 'AttemptStarted':
    case 'AttemptProgressed':
    case 'AttemptSucceeded':
    case 'AttemptFailed':
    case 'TaskFailed':
    case 'RollbackRetryRequested':
    case 'CommandRejected':
    case 'ReplyUndelivered':
      return [];
    default:
      return assertNever(event, 'event');
  }
}

function reply(origin: Origin): Effect[] {
  return origin.type === 'none' ? [] : [{ type: 'reply', origin }];
}

function live(state: TaskState, event: LifecycleEvent): LiveState {
  if (state.phase !== 'Live') {
    throw new StacklError('LIFECYCLE_EFFECTS_STATE', `effects of ${event.type} need the live task, got ${state.phase}`);
  }
  return state;
}

import { defaultLifecycleDefaults, type LifecycleDefaults } from './defaults.js';
import { applyAttemptEvent, submittedState } from './evolve-attempt.js';
import { applyRollbackEvent } from './evolve-rollback.js';
import { assertNever } from './never.js';
import { initialState, type LiveState, type TaskState } from './state.js';
import { assertTransition, InvalidTransitionError, positionOf, targetOf, type Position } from './transitions.js';
import type { LifecycleEvent } from './types.js';

/**
 * Folds one event into the state. Pure: deadlines come from the events' fields, and `now`
 * (the event's time) is only used to stamp the state (updatedAt, start time, the heartbeat
 * a progress report extends, the expunge time). Folding the same events at the same times
 * always yields the same state.
 *
 * `defaults` supplies only the expunge grace, the one duration no event carries; pass the
 * same defaults as to decide. Throws InvalidTransitionError for a move the table forbids.
 */
export function evolve(
  state: TaskState,
  event: LifecycleEvent,
  now: number,
  defaults: Pick<LifecycleDefaults, 'expungeGraceMs'> = defaultLifecycleDefaults,
): TaskState {
  const from = positionOf(state);
  const to = targetOf(from, event);
  assertTransition(event.type, from, to);
  const next = apply(state, event, now, defaults.expungeGraceMs, from, to);
  const reached = positionOf(next);
  // Holds unless evolve itself is wrong; cheap enough to check on every event.
  if (reached !== to) throw new InvalidTransitionError(event.type, from, reached);
  return next;
}

function apply(state: TaskState, event: LifecycleEvent, now: number, grace: number, from: Position, to: Position): TaskState {
  switch (event.type) {
    case 'TaskSubmitted':
      return submittedState(event.body, now);
    case 'TaskRejected':
      return { phase: 'Rejected', sequence: 1, ...event.body, rejectedAt: now, expungeAt: now + grace };
    case 'CommandRejected':
    case 'ReplyUndelivered':
      // The task is unchanged; only the sequence moves (an Absent or Retired task has none to move).
      if (state.phase === 'Absent' || state.phase === 'Retired') return state;
      return state.phase === 'Live'
        ? { ...state, sequence: state.sequence + 1, updatedAt: now }
        : { ...state, sequence: state.sequence + 1 };
    case 'TaskExpunged':
      return initialState;
    case 'AttemptDispatched':
    case 'AttemptStarted':
    case 'AttemptProgressed':
    case 'AttemptSucceeded':
    case 'AttemptFailed':
    case 'TaskCompleted':
      return applyAttemptEvent(live(state, event, from, to), event, now, grace);
    case 'TaskFailed':
    case 'RollbackDispatched':
    case 'RollbackSucceeded':
    case 'RollbackFailed':
    case 'RollbackRetryRequested':
      return applyRollbackEvent(live(state, event, from, to), event, now, grace);
    default:
      return assertNever(event, 'event');
  }
}

/** The table already guarantees a live task here; this narrows the type without a cast. */
function live(state: TaskState, event: LifecycleEvent, from: Position, to: Position): LiveState {
  if (state.phase !== 'Live') throw new InvalidTransitionError(event.type, from, to);
  return state;
}

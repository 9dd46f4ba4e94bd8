import { StacklError } from '../../core/errors.js';
import { assertNever } from './never.js';
import type { RollbackStatus, TaskState } from './state.js';
import type { LifecycleEvent, LifecycleEventType } from './types.js';

/** Where a task stands, as one word: the phase, or the status (and, once Failed, the rollback). */
export type Position =
  | 'Absent'
  | 'Retired'
  | 'Rejected'
  | 'Available'
  | 'InProgress'
  | 'Completed'
  | `Failed/${RollbackStatus}`;

type Move = readonly [from: Position, to: Position];

const everywhereToItself: readonly Move[] = (
  ['Absent', 'Retired', 'Rejected', 'Available', 'InProgress', 'Completed', 'Failed/pending', 'Failed/running', 'Failed/done', 'Failed/failed'] as const
).map((position) => [position, position] as const);

/**
 * Every move each event may make, declared once. evolve refuses anything else: the decider
 * only emits events that fit, so a refusal here is a bug (or a corrupt log), never bad input.
 */
export const transitions: Readonly<Record<LifecycleEventType, readonly Move[]>> = {
  TaskSubmitted: [['Absent', 'Available']],
  TaskRejected: [['Absent', 'Rejected']],
  AttemptDispatched: [['Available', 'Available']],
  // InProgress → InProgress is a heartbeat: a repeated start of the current attempt.
  AttemptStarted: [['Available', 'InProgress'], ['InProgress', 'InProgress']],
  AttemptProgressed: [['InProgress', 'InProgress']],
  // A worker may succeed without its start having been seen, hence Available.
  AttemptSucceeded: [['Available', 'Available'], ['InProgress', 'InProgress']],
  // With a retry the task is queued again; without one it stays put until TaskFailed.
  AttemptFailed: [['Available', 'Available'], ['InProgress', 'Available'], ['InProgress', 'InProgress']],
  TaskCompleted: [['Available', 'Completed'], ['InProgress', 'Completed']],
  TaskFailed: [['Available', 'Failed/pending'], ['InProgress', 'Failed/pending']],
  // From running, done or failed: a late success or a late start re-runs the rollback.
  RollbackDispatched: [
    ['Failed/pending', 'Failed/running'],
    ['Failed/running', 'Failed/running'],
    ['Failed/done', 'Failed/running'],
    ['Failed/failed', 'Failed/running'],
  ],
  RollbackSucceeded: [['Failed/running', 'Failed/done']],
  RollbackFailed: [['Failed/running', 'Failed/pending'], ['Failed/running', 'Failed/failed']],
  RollbackRetryRequested: [['Failed/failed', 'Failed/pending']],
  CommandRejected: everywhereToItself,
  TaskExpunged: [['Completed', 'Absent'], ['Failed/done', 'Absent'], ['Rejected', 'Absent']],
  // Written after a reply was refused, or the notifier gave up on a webhook; a reply only follows an outcome.
  ReplyUndelivered: everywhereToItself.filter(([from]) => from !== 'Absent' && from !== 'Retired'),
};

/** evolve was asked for a move the table does not allow. */
export class InvalidTransitionError extends StacklError {
  readonly event: LifecycleEventType;
  readonly from: Position;
  readonly to: Position;

  constructor(event: LifecycleEventType, from: Position, to: Position) {
    super('INVALID_TRANSITION', `${event} cannot move a task from ${from} to ${to}`, {
      httpStatus: 500,
      retriable: false,
      details: { event, from, to },
    });
    this.event = event;
    this.from = from;
    this.to = to;
  }
}

export function positionOf(state: TaskState): Position {
  switch (state.phase) {
    case 'Absent':
    case 'Retired':
    case 'Rejected':
      return state.phase;
    case 'Live':
      // evolve sets rollback together with status Failed, so the fallback never shows.
      return state.status === 'Failed' ? `Failed/${state.rollback ?? 'pending'}` : state.status;
    default:
      return assertNever(state, 'task state');
  }
}

/** Where an event means to take a task standing at `from`. */
export function targetOf(from: Position, event: LifecycleEvent): Position {
  switch (event.type) {
    case 'TaskSubmitted':
    case 'AttemptDispatched':
      return 'Available';
    case 'TaskRejected':
      return 'Rejected';
    case 'AttemptStarted':
    case 'AttemptProgressed':
      return 'InProgress';
    case 'AttemptSucceeded':
    case 'CommandRejected':
    case 'ReplyUndelivered':
      return from;
    case 'AttemptFailed':
      return event.body.retryAt === null ? from : 'Available';
    case 'TaskCompleted':
      return 'Completed';
    case 'TaskFailed':
    case 'RollbackRetryRequested':
      return 'Failed/pending';
    case 'RollbackDispatched':
      return 'Failed/running';
    case 'RollbackSucceeded':
      return 'Failed/done';
    case 'RollbackFailed':
      return event.body.retryAt === null ? 'Failed/failed' : 'Failed/pending';
    case 'TaskExpunged':
      return 'Absent';
    default:
      return assertNever(event, 'event');
  }
}

export function isAllowed(event: LifecycleEventType, from: Position, to: Position): boolean {
  return transitions[event].some(([a, b]) => a === from && b === to);
}

/** The guard: throws InvalidTransitionError naming the event, from and to. */
export function assertTransition(event: LifecycleEventType, from: Position, to: Position): void {
  if (!isAllowed(event, from, to)) throw new InvalidTransitionError(event, from, to);
}

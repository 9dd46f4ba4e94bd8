import type { TaskSubmitted } from '../../schemas/index.js';
import { step } from './evolve-step.js';
import { assertNever } from './never.js';
import type { LiveState } from './state.js';
import type { LifecycleEventOf } from './types.js';

type AttemptEvent = LifecycleEventOf<
  'AttemptDispatched' | 'AttemptStarted' | 'AttemptProgressed' | 'AttemptSucceeded' | 'AttemptFailed' | 'TaskCompleted'
>;

export function submittedState(body: TaskSubmitted, now: number): LiveState {
  return {
    phase: 'Live',
    sequence: 1,
    updatedAt: now,
    task: body.task,
    status: 'Available',
    rollback: null,
    deadlineAt: body.deadlineAt,
    attempt: 0,
    attemptDeadlineAt: null,
    heartbeatDeadlineAt: null,
    retryAt: null,
    workerId: null,
    startedAt: null,
    progress: null,
    attemptFailure: null,
    failure: null,
    output: null,
    rollbackAttempt: 0,
    rollbackDeadlineAt: null,
    rollbackRetryAt: null,
    rollbackError: null,
    expungeAt: null,
  };
}

/** The events of the forward path, from dispatch to completion. */
export function applyAttemptEvent(state: LiveState, event: AttemptEvent, now: number, expungeGraceMs: number): LiveState {
  switch (event.type) {
    case 'AttemptDispatched':
      return step(state, now, {
        attempt: event.body.attempt,
        attemptDeadlineAt: event.body.deadlineAt,
        heartbeatDeadlineAt: null,
        retryAt: null,
        workerId: null,
        startedAt: null,
        progress: null,
      });
    case 'AttemptStarted':
      // A repeated start of the running attempt is how a heartbeat is recorded (see decide-result.ts):
      // it moves the heartbeat deadline and keeps the original start time.
      return step(state, now, {
        status: 'InProgress',
        workerId: event.body.workerId,
        heartbeatDeadlineAt: event.body.heartbeatDeadlineAt,
        startedAt: state.status === 'InProgress' ? state.startedAt : now,
      });
    case 'AttemptProgressed':
      // Progress is also a sign of life. The event has no deadline field, so the new heartbeat
      // deadline comes from the event's own time and the task's fixed heartbeat timeout:
      // folding the same events at the same times always gives the same deadline.
      return step(state, now, {
        progress: { percent: event.body.percent, message: event.body.message },
        heartbeatDeadlineAt: state.task.heartbeatTimeoutMs === null ? null : now + state.task.heartbeatTimeoutMs,
      });
    case 'AttemptSucceeded':
      return step(state, now, { output: event.body.output, attemptDeadlineAt: null, heartbeatDeadlineAt: null });
    case 'AttemptFailed': {
      const { attempt, reason, message, retryAt } = event.body;
      return step(state, now, {
        status: retryAt === null ? state.status : 'Available',
        attemptFailure: { attempt, reason, message },
        attemptDeadlineAt: null,
        heartbeatDeadlineAt: null,
        retryAt,
      });
    }
    case 'TaskCompleted':
      return step(state, now, {
        status: 'Completed',
        output: event.body.output,
        attemptDeadlineAt: null,
        heartbeatDeadlineAt: null,
        retryAt: null,
        expungeAt: now + expungeGraceMs,
      });
    default:
      return assertNever(event, 'attempt event');
  }
}

import { step } from './evolve-step.js';
import { assertNever } from './never.js';
import type { LiveState } from './state.js';
import type { LifecycleEventOf } from './types.js';

type RollbackEvent = LifecycleEventOf<
  'TaskFailed' | 'RollbackDispatched' | 'RollbackSucceeded' | 'RollbackFailed' | 'RollbackRetryRequested'
>;

/** The events of the failure path: the task fails, then its rollback runs until done or given up. */
export function applyRollbackEvent(state: LiveState, event: RollbackEvent, now: number, expungeGraceMs: number): LiveState {
  switch (event.type) {
    case 'TaskFailed':
      return step(state, now, {
        status: 'Failed',
        rollback: 'pending',
        failure: { reason: event.body.reason, message: event.body.message },
        attemptDeadlineAt: null,
        heartbeatDeadlineAt: null,
        retryAt: null,
      });
    case 'RollbackDispatched':
      // A re-run after done clears the expunge time: the task is not consistent again until it ends.
      return step(state, now, {
        rollback: 'running',
        rollbackAttempt: event.body.rollbackAttempt,
        rollbackDeadlineAt: event.body.deadlineAt,
        rollbackRetryAt: null,
        expungeAt: null,
      });
    case 'RollbackSucceeded':
      return step(state, now, { rollback: 'done', rollbackDeadlineAt: null, expungeAt: now + expungeGraceMs });
    case 'RollbackFailed':
      // Given up (retryAt null) means listed for an operator: no expunge time, ever, until a retry succeeds.
      return step(state, now, {
        rollback: event.body.retryAt === null ? 'failed' : 'pending',
        rollbackError: event.body.message,
        rollbackDeadlineAt: null,
        rollbackRetryAt: event.body.retryAt,
      });
    case 'RollbackRetryRequested':
      return step(state, now, { rollback: 'pending' });
    default:
      return assertNever(event, 'rollback event');
  }
}

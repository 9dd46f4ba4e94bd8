import type { TaskResultMessage } from '../../schemas/index.js';
import { assertNever } from './never.js';
import { dispatchRollback, failAttempt, failRollback } from './outcomes.js';
import { attemptOutstanding, type LiveState, type TaskState } from './state.js';
import { checkJsonText } from './json-text.js';
import { bounded, TEXT_LIMITS } from './limits.js';
import type { DecideContext, LifecycleEvent } from './types.js';

/**
 * Results from workers. The attempt (or rollback attempt) number is the fencing token: a
 * result that does not name the outstanding attempt changes nothing, with one exception,
 * evidence that a worker ran after the task failed, which re-runs the rollback.
 *
 * Starts: a worker reports AttemptStarted only for attempts that run long enough to be
 * worth seeing (or that heartbeat); a quick attempt's result is its first report. The start
 * is then recorded with the result, in the same transaction, so the history is the same
 * as if it had been reported and a task costs one record and one transaction fewer.
 *
 * Heartbeats: events are the only way state changes, and a heartbeat is no lifecycle step
 * of its own, so it is recorded as a repeated AttemptStarted of the running attempt carrying
 * the new heartbeat deadline (evolve treats a second start as exactly that). AttemptProgressed
 * is emitted for progress reports only, and also extends the heartbeat deadline.
 */
export function decideResult(message: TaskResultMessage, state: TaskState, ctx: Pick<DecideContext, 'now' | 'limits'>): LifecycleEvent[] {
  const { now } = ctx;
  // Never submitted, rejected or expunged: nothing to fence against, nothing to change.
  if (state.phase !== 'Live') return [];
  switch (message.type) {
    case 'AttemptStarted': {
      const { attempt } = message.body;
      const workerId = bounded(message.body.workerId, TEXT_LIMITS.workerId);
      if (isCurrent(state, attempt)) return [started(state, attempt, workerId, now)];
      return lateStart(state, attempt) ? [dispatchRollback(state, now)] : [];
    }
    case 'AttemptHeartbeat': {
      const { attempt } = message.body;
      const workerId = bounded(message.body.workerId, TEXT_LIMITS.workerId);
      if (!isCurrent(state, attempt)) return [];
      // Without a heartbeat timeout there is no deadline to move; only an unseen start is news.
      if (state.status === 'InProgress' && state.task.heartbeatTimeoutMs === null) return [];
      return [started(state, attempt, workerId, now)];
    }
    case 'AttemptProgress': {
      const { attempt } = message.body;
      if (!isCurrent(state, attempt)) return [];
      const workerId = bounded(message.body.workerId, TEXT_LIMITS.workerId);
      const percent = Math.min(100, Math.max(0, message.body.percent));
      const text = message.body.message === null ? null : bounded(message.body.message);
      const progressed: LifecycleEvent = { type: 'AttemptProgressed', body: { attempt, percent, message: text } };
      // Progress proves the attempt started even if its start report was lost or overtaken.
      return state.status === 'Available' ? [started(state, attempt, workerId, now), progressed] : [progressed];
    }
    case 'AttemptSucceeded': {
      const { attempt, output } = message.body;
      if (isCurrent(state, attempt)) {
        const start = unseenStart(state, attempt, message.body.workerId, now);
        // Workers check their output too; this is for producers that bypass them.
        const checked = checkJsonText(output, ctx.limits.maxOutputBytes);
        if (!checked.ok) return [...start, ...failAttempt(state, { reason: 'error', message: `the worker's output ${checked.problem.message}`, retriable: false }, now)];
        return [...start, { type: 'AttemptSucceeded', body: { attempt, output } }, { type: 'TaskCompleted', body: { output } }];
      }
      // A late worker finished after the task failed: undo its changes too (rollback is idempotent).
      const late = state.status === 'Failed' && attempt >= 1 && attempt <= state.attempt;
      return late ? [dispatchRollback(state, now)] : [];
    }
    case 'AttemptFailed': {
      const { attempt, message: text, retriable } = message.body;
      // A late failure changes nothing: an attempt reports its start before its first
      // change, so one that changed anything after the task failed was seen by lateStart.
      return isCurrent(state, attempt) ? [...unseenStart(state, attempt, message.body.workerId, now), ...failAttempt(state, { reason: 'error', message: bounded(text), retriable }, now)] : [];
    }
    case 'RollbackSucceeded': {
      const { rollbackAttempt } = message.body;
      return isCurrentRollback(state, rollbackAttempt) ? [{ type: 'RollbackSucceeded', body: { rollbackAttempt } }] : [];
    }
    case 'RollbackFailed': {
      const { rollbackAttempt, message: text } = message.body;
      return isCurrentRollback(state, rollbackAttempt) ? [failRollback(state, bounded(text), now)] : [];
    }
    default:
      return assertNever(message, 'result');
  }
}

function isCurrent(state: LiveState, attempt: number): boolean {
  return attemptOutstanding(state) && attempt === state.attempt;
}

function isCurrentRollback(state: LiveState, rollbackAttempt: number): boolean {
  return state.status === 'Failed' && state.rollback === 'running' && rollbackAttempt === state.rollbackAttempt;
}

/**
 * The last attempt starts only after the task failed without it ever being seen started
 * (cancelled while queued, or timed out in the queue): the worker is about to make
 * changes the rollback already dispatched may not see, so roll back again.
 */
function lateStart(state: LiveState, attempt: number): boolean {
  return state.status === 'Failed' && attempt === state.attempt && state.workerId === null;
}

/** The start of an attempt whose result is its first report, recorded just before the result. */
function unseenStart(state: LiveState, attempt: number, workerId: string, now: number): LifecycleEvent[] {
  return state.status === 'Available' ? [started(state, attempt, bounded(workerId, TEXT_LIMITS.workerId), now)] : [];
}

function started(state: LiveState, attempt: number, workerId: string, now: number): LifecycleEvent {
  const timeout = state.task.heartbeatTimeoutMs;
  return { type: 'AttemptStarted', body: { attempt, workerId, heartbeatDeadlineAt: timeout === null ? null : now + timeout } };
}

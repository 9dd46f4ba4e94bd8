// One step of a generated history: how the clock moves, then what arrives. Steps are
// abstract ("the current attempt", "exactly the next deadline") and resolved against the
// state reached so far, so a shrunk history still means what it says.
import { nextDeadline, type LifecycleInput, type TaskState } from '../../../../processors/lifecycle/index.js';
import type { SubmitTask } from '../../../../schemas/index.js';
import { cancel, result, retryRollback, submit, T0, tick } from '../fixtures.js';
import { show, showSubmit } from './show.js';

export type Clock =
  /** now + ms */
  | { kind: 'advance'; ms: number }
  /** Exactly nextDeadline(state) (the clock stays put when there is none or it has passed). */
  | { kind: 'toDeadline' }
  /** One millisecond before nextDeadline(state). */
  | { kind: 'beforeDeadline' }
  /** nextDeadline(state) + ms. */
  | { kind: 'pastDeadline'; ms: number };

export type AttemptResultType = 'AttemptStarted' | 'AttemptHeartbeat' | 'AttemptProgress' | 'AttemptSucceeded' | 'AttemptFailed';
export type RollbackResultType = 'RollbackSucceeded' | 'RollbackFailed';

export type Action =
  | { kind: 'submit'; body: SubmitTask; note: string | null }
  | { kind: 'cancel' }
  | { kind: 'retryRollback' }
  | { kind: 'tick' }
  /** A worker result naming attempt `state.attempt + offset` (never below 0). */
  | { kind: 'attempt'; type: AttemptResultType; offset: number; retriable: boolean; workerId: string; percent: number }
  /** A rollback worker result naming rollback attempt `state.rollbackAttempt + offset` (never below 0). */
  | { kind: 'rollback'; type: RollbackResultType; offset: number; workerId: string };

export interface Step {
  clock: Clock;
  action: Action;
}

export interface Resolved {
  now: number;
  input: LifecycleInput;
}

export function resolveTime(clock: Clock, state: TaskState, now: number): number {
  const due = nextDeadline(state);
  switch (clock.kind) {
    case 'advance':
      return now + clock.ms;
    case 'toDeadline':
      return due !== null && due > now ? due : now;
    case 'beforeDeadline':
      return due !== null && due - 1 > now ? due - 1 : now;
    case 'pastDeadline':
      return due !== null ? Math.max(now, due + clock.ms) : now + clock.ms;
  }
}

function attemptOf(state: TaskState): number {
  return state.phase === 'Live' ? state.attempt : 0;
}

function rollbackAttemptOf(state: TaskState): number {
  return state.phase === 'Live' ? state.rollbackAttempt : 0;
}

export function resolveInput(action: Action, state: TaskState): LifecycleInput {
  switch (action.kind) {
    case 'submit':
      return submit(action.body);
    case 'cancel':
      return cancel('changed my mind', 'alice');
    case 'retryRollback':
      return retryRollback('ops');
    case 'tick':
      return tick;
    case 'attempt': {
      const attempt = Math.max(0, attemptOf(state) + action.offset);
      const { workerId } = action;
      switch (action.type) {
        case 'AttemptStarted':
          return result('AttemptStarted', { attempt, workerId });
        case 'AttemptHeartbeat':
          return result('AttemptHeartbeat', { attempt, workerId });
        case 'AttemptProgress':
          return result('AttemptProgress', { attempt, workerId, percent: action.percent, message: `at ${action.percent}%` });
        case 'AttemptSucceeded':
          return result('AttemptSucceeded', { attempt, workerId, output: `{"by":"${workerId}"}` });
        case 'AttemptFailed':
          return result('AttemptFailed', { attempt, workerId, message: 'boom', retriable: action.retriable });
      }
      break;
    }
    case 'rollback': {
      const rollbackAttempt = Math.max(0, rollbackAttemptOf(state) + action.offset);
      return action.type === 'RollbackSucceeded'
        ? result('RollbackSucceeded', { rollbackAttempt, workerId: action.workerId })
        : result('RollbackFailed', { rollbackAttempt, workerId: action.workerId, message: 'undo failed' });
    }
  }
  throw new Error(`unknown action ${show(action)}`);
}

export function resolveStep(step: Step, state: TaskState, now: number): Resolved {
  return { now: resolveTime(step.clock, state, now), input: resolveInput(step.action, state) };
}

function showOffset(name: string, offset: number): string {
  return offset === 0 ? `${name}=current` : `${name}=current${offset > 0 ? '+' : ''}${offset}`;
}

export function describeClock(clock: Clock): string {
  switch (clock.kind) {
    case 'advance':
      return `+${clock.ms}ms`;
    case 'toDeadline':
      return '@deadline';
    case 'beforeDeadline':
      return '@deadline-1';
    case 'pastDeadline':
      return `@deadline+${clock.ms}ms`;
  }
}

export function describeAction(action: Action): string {
  switch (action.kind) {
    case 'submit':
      return `SubmitTask${action.note === null ? '' : ` (${action.note})`} ${showSubmit(action.body)}`;
    case 'cancel':
      return 'CancelTask';
    case 'retryRollback':
      return 'RetryRollback';
    case 'tick':
      return 'tick';
    case 'attempt': {
      const extra =
        action.type === 'AttemptFailed' ? ` retriable=${action.retriable}` : action.type === 'AttemptProgress' ? ` ${action.percent}%` : '';
      return `${action.type}(${showOffset('attempt', action.offset)} ${action.workerId}${extra})`;
    }
    case 'rollback':
      return `${action.type}(${showOffset('rollbackAttempt', action.offset)} ${action.workerId})`;
  }
}

export function describeStep(step: Step): string {
  return `${describeClock(step.clock)} ${describeAction(step.action)}`;
}

/** The concrete input, as the trace prints it. */
export function describeInput(input: LifecycleInput): string {
  switch (input.type) {
    case 'tick':
      return 'tick';
    case 'command':
      return input.message.type === 'SubmitTask'
        ? `SubmitTask ${showSubmit(input.message.body)}`
        : `${input.message.type} ${show(input.message.body)}`;
    case 'result':
      return `${input.message.type} ${show(input.message.body)}`;
  }
}

/** Time relative to the clock origin of the fixtures. */
export function at(time: number): string {
  return `T+${time - T0}`;
}

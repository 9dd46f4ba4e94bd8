import { describe, expect, it } from 'vitest';
import {
  defaultLifecycleDefaults,
  evolve,
  initialState,
  InvalidTransitionError,
  positionOf,
  retiredState,
  transitions,
  type LifecycleEvent,
  type LifecycleEventType,
  type Position,
  type TaskState,
} from '../../../processors/lifecycle/index.js';
import { isAllowed, targetOf } from '../../../processors/lifecycle/transitions.js';
import { accepted, event, rollingBack, running, T0 } from './fixtures.js';
import { fold } from './given.js';

const at = (...events: LifecycleEvent[]): TaskState => fold(initialState, events, T0, defaultLifecycleDefaults);

/** One state for every position a task can stand at. */
const states: Record<Position, TaskState> = {
  Absent: initialState,
  Retired: retiredState,
  Rejected: at(event('TaskRejected', { code: 'UNKNOWN_KIND', message: 'x' })),
  Available: at(...accepted()),
  InProgress: at(...running()),
  Completed: at(...running(), event('AttemptSucceeded', { attempt: 1, output: '1' }), event('TaskCompleted', { output: '1' })),
  'Failed/pending': at(...running(), event('TaskFailed', { reason: 'error', message: 'x' })),
  'Failed/running': at(...rollingBack()),
  'Failed/done': at(...rollingBack(), event('RollbackSucceeded', { rollbackAttempt: 1 })),
  'Failed/failed': at(...rollingBack(), event('RollbackFailed', { rollbackAttempt: 1, message: 'x', retryAt: null })),
};

/** Sample events of every type, with both shapes where the body picks the target. */
const samples: LifecycleEvent[] = [
  accepted()[0] as LifecycleEvent,
  event('TaskRejected', { code: 'X', message: 'x' }),
  event('AttemptDispatched', { attempt: 2, deadlineAt: T0 + 1 }),
  event('AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }),
  event('AttemptProgressed', { attempt: 1, percent: 1, message: null }),
  event('AttemptSucceeded', { attempt: 1, output: '1' }),
  event('AttemptFailed', { attempt: 1, reason: 'error', message: 'x', retryAt: T0 + 1 }),
  event('AttemptFailed', { attempt: 1, reason: 'error', message: 'x', retryAt: null }),
  event('TaskCompleted', { output: '1' }),
  event('TaskFailed', { reason: 'error', message: 'x' }),
  event('RollbackDispatched', { rollbackAttempt: 2, deadlineAt: T0 + 1 }),
  event('RollbackSucceeded', { rollbackAttempt: 1 }),
  event('RollbackFailed', { rollbackAttempt: 1, message: 'x', retryAt: T0 + 1 }),
  event('RollbackFailed', { rollbackAttempt: 1, message: 'x', retryAt: null }),
  event('RollbackRetryRequested', { requestedBy: null }),
  event('CommandRejected', { command: 'CancelTask', code: 'X', message: 'x' }),
  event('TaskExpunged', {}),
  event('ReplyUndelivered', { target: 'stackl.reply.orders', code: 'MESSAGE_TOO_LARGE', message: 'x' }),
];

const cases = Object.entries(states).flatMap(([from, state]) =>
  samples.map((sample) => ({ from: from as Position, state, sample, to: targetOf(from as Position, sample) })),
);

describe('the transition table and its guard', () => {
  it('lists every event type', () => {
    const types = new Set(samples.map((sample) => sample.type));
    expect(Object.keys(transitions).sort()).toEqual([...types].sort());
  });

  it('the sample states stand where they claim', () => {
    for (const [position, state] of Object.entries(states)) expect(positionOf(state)).toBe(position);
  });

  it.each(cases.filter((c) => isAllowed(c.sample.type, c.from, c.to)).map((c) => [c.sample.type, c.from, c.to, c] as const))(
    '%s moves %s to %s',
    (_type, _from, to, { state, sample }) => {
      expect(positionOf(evolve(state, sample, T0 + 1))).toBe(to);
    },
  );

  it.each(cases.filter((c) => !isAllowed(c.sample.type, c.from, c.to)).map((c) => [c.sample.type, c.from, c.to, c] as const))(
    '%s from %s to %s is refused, naming from and to',
    (type, from, to, { state, sample }) => {
      const attempt = (): TaskState => evolve(state, sample, T0 + 1);
      expect(attempt).toThrow(InvalidTransitionError);
      expect(attempt).toThrow(`${type} cannot move a task from ${from} to ${to}`);
      try {
        attempt();
      } catch (error) {
        expect(error).toMatchObject({ code: 'INVALID_TRANSITION', event: type, from, to, retriable: false });
      }
    },
  );

  it('every move in the table is reachable', () => {
    const reached = new Set(cases.filter((c) => isAllowed(c.sample.type, c.from, c.to)).map((c) => `${c.sample.type}:${c.from}>${c.to}`));
    const declared = (Object.entries(transitions) as Array<[LifecycleEventType, ReadonlyArray<readonly [Position, Position]>]>).flatMap(([type, moves]) =>
      moves.map(([from, to]) => `${type}:${from}>${to}`),
    );
    expect(declared.filter((move) => !reached.has(move))).toEqual([]);
  });

  it('every applied event bumps the sequence; a rejected command about no task leaves it absent', () => {
    const states = accepted().reduce<TaskState[]>((acc, e) => [...acc, evolve(acc.at(-1) ?? initialState, e, T0)], []);
    expect(states.map((s) => (s.phase === 'Live' ? s.sequence : 0))).toEqual([1, 2]);
    expect(evolve(initialState, event('CommandRejected', { command: 'CancelTask', code: 'TASK_NOT_FOUND', message: 'x' }), T0)).toBe(initialState);
  });
});

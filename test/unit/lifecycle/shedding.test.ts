// The decider's side of load shedding: while the broker sheds (ctx.shedding), a valid
// submission of a new task is rejected OVERLOADED and replied to its origin; a bad one
// still gets the answer that says what to fix; tasks that exist are decided as always.
import { describe, expect, it } from 'vitest';
import { decide, effects, evolve, initialState, type LifecycleEvent, type TaskState } from '../../../processors/lifecycle/index.js';
import { accepted, cancel, context, submit, T0, tick } from './fixtures.js';

const shedding = { ...context(T0), shedding: '2500 orders wait for a worker (limit 2000)' };

function fold(events: readonly LifecycleEvent[]): TaskState {
  return events.reduce((state, e) => evolve(state, e, T0), initialState);
}

describe('SubmitTask while the broker sheds load', () => {
  it('rejects a valid new task OVERLOADED, says why and how to come back, and replies to its origin', () => {
    const input = submit();
    const events = decide(input, initialState, shedding);
    expect(events).toEqual([
      {
        type: 'TaskRejected',
        body: { code: 'OVERLOADED', message: 'the broker is shedding load: 2500 orders wait for a worker (limit 2000); submit again later under a new idempotency key' },
      },
    ]);
    const [rejection] = events as [LifecycleEvent];
    // ...and leaves the broker's state in the same transaction (its id stays spent).
    expect(effects(rejection, fold(events), input)).toEqual([{ type: 'reply', origin: { type: 'topic', target: 'stackl.reply.replies' } }, { type: 'expunge' }]);
  });

  it('answers a bad submission with its own problem first', () => {
    expect(decide(submit({ kind: 'gizmo' }), initialState, shedding)).toMatchObject([{ type: 'TaskRejected', body: { code: 'UNKNOWN_KIND' } }]);
  });

  it('decides commands for tasks that exist as always: a duplicate changes nothing, a cancel cancels', () => {
    const live = fold(accepted());
    expect(decide(submit(), live, shedding)).toEqual([]);
    expect(decide(cancel('user'), live, shedding).map((e) => e.type)).toEqual(decide(cancel('user'), live, context(T0)).map((e) => e.type));
    expect(decide(cancel('user'), live, shedding).map((e) => e.type)).toContain('TaskFailed');
  });

  it('keeps a task rejected as invalid for the grace period, unlike one shed for load', () => {
    const input = submit({ kind: 'gizmo' });
    const events = decide(input, initialState, shedding);
    expect(effects(events[0] as LifecycleEvent, fold(events), input).map((e) => e.type)).toEqual(['reply']);
    expect(decide(tick, fold(events), context(T0 + 1000))).toEqual([]);
  });

  it('takes the same submission when the broker is not shedding', () => {
    expect(decide(submit(), initialState, context(T0)).map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched']);
  });
});

// given(events…).when(input, now).then(expectedEvents): the decider's tests read as the rules do.
import { expect } from 'vitest';
import {
  decide,
  defaultLifecycleDefaults,
  effects,
  evolve,
  initialState,
  type Effect,
  type LifecycleDefaults,
  type LifecycleEvent,
  type LifecycleInput,
  type TaskState,
} from '../../../processors/lifecycle/index.js';
import { kinds, limits, T0 } from './fixtures.js';

export interface Outcome {
  events: LifecycleEvent[];
  /** The state after folding the emitted events at `now`. */
  state: TaskState;
  /** The effects of each emitted event, in order. */
  effects: Effect[][];
  then(expected: LifecycleEvent[]): Outcome;
}

export interface Scenario {
  readonly state: TaskState;
  /** More history, folded at `now`. */
  at(now: number, ...events: LifecycleEvent[]): Scenario;
  when(input: LifecycleInput, now?: number): Outcome;
}

export function fold(state: TaskState, events: readonly LifecycleEvent[], now: number, defaults: LifecycleDefaults): TaskState {
  return events.reduce((current, event) => evolve(current, event, now, defaults), state);
}

function scenario(state: TaskState, defaults: LifecycleDefaults): Scenario {
  return {
    state,
    at: (now, ...events) => scenario(fold(state, events, now, defaults), defaults),
    when(input, now = T0) {
      const events = decide(input, state, { now, kinds, defaults, limits });
      const after: TaskState[] = [];
      events.reduce((current, event) => {
        const next = evolve(current, event, now, defaults);
        after.push(next);
        return next;
      }, state);
      const outcome: Outcome = {
        events,
        state: after.at(-1) ?? state,
        effects: events.map((event, i) => effects(event, after[i] ?? state, input)),
        then(expected) {
          expect(events).toEqual(expected);
          return outcome;
        },
      };
      return outcome;
    },
  };
}

/** History folded from initialState at T0. */
export function given(...events: LifecycleEvent[]): Scenario {
  return scenario(fold(initialState, events, T0, defaultLifecycleDefaults), defaultLifecycleDefaults);
}

/** A state the adapter hands in rather than one folded from events (Retired). */
export function givenState(state: TaskState): Scenario {
  return scenario(state, defaultLifecycleDefaults);
}

/** The same, with other defaults for decide and evolve (an expunge grace, say). */
export function givenWith(defaults: Partial<LifecycleDefaults>, ...events: LifecycleEvent[]): Scenario {
  const all = { ...defaultLifecycleDefaults, ...defaults };
  return scenario(fold(initialState, events, T0, all), all);
}

// Invariants 1 and 7: every event the decider emits is a move evolve accepts, and the
// emitted events alone (as logged, JSON on Kafka) rebuild exactly the state it reached.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evolve, initialState, type LifecycleEvent, type TaskState } from '../../../../processors/lifecycle/index.js';
import { scenarioArb } from './arbitraries.js';
import { assertProperty } from './config.js';
import { play, type Run } from './harness.js';
import { show } from './show.js';

const RUNS = 400;

const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Deadlines and times are absolute epoch ms: integers, never NaN or Infinity (which JSON would turn into null). */
function badTimes(value: unknown, path = ''): string[] {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? [] : [`${path} = ${value}`];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => (key === 'percent' || key === 'multiplier' ? [] : badTimes(item, `${path}.${key}`)));
}

function checkReplay(run: Run): void {
  let replayed: TaskState = initialState;
  for (const record of run.records) {
    const problems = [...badTimes(record.after, 'state'), ...record.events.flatMap((event) => badTimes(event.body, event.type))];
    if (problems.length > 0) run.fail(record.index, `a time is not an integer: ${problems.join('; ')}`);
    if (record.events.length === 0 && record.after !== record.before) run.fail(record.index, 'the state changed without an event');
    if (show(json(record.after)) !== show(record.after)) {
      run.fail(record.index, `the state does not survive JSON: ${show(record.after)} became ${show(json(record.after))}`);
    }
    // The log as the projector and a replay read it: JSON, each event at its envelope time.
    const logged = json(record.events) as LifecycleEvent[];
    replayed = logged.reduce((state, event) => evolve(state, event, record.now, run.defaults), replayed);
    if (show(replayed) !== show(record.after)) {
      run.fail(record.index, `replaying the log gives\n    ${show(replayed)}\n  but the decider reached\n    ${show(record.after)}`);
    }
  }
}

describe('lifecycle properties: decided events are valid facts', () => {
  it('1. evolve never throws for events decide produced (foldEvents and event-by-event evolve agree)', () => {
    assertProperty(
      fc.property(scenarioArb(), (scenario) => {
        // play throws, with the history, if decide, foldEvents, evolve or effects throws.
        const run = play(scenario);
        for (const record of run.records) {
          const last = record.states.at(-1) ?? record.before;
          if (show(last) !== show(record.after)) run.fail(record.index, 'foldEvents and evolve event by event disagree');
        }
      }),
      RUNS,
    );
  });

  it('7. replaying the emitted events (JSON, at their times) from initialState gives exactly the state reached', () => {
    assertProperty(fc.property(scenarioArb(), (scenario) => checkReplay(play(scenario))), RUNS);
  });

  it('7. (sanity) the generated histories reach every position', () => {
    // Guards the generators: a property that never sees a position proves nothing about it.
    const seen = new Set<string>();
    fc.assert(
      fc.property(scenarioArb(), (scenario) => {
        for (const record of play(scenario).records) {
          const state = record.after;
          seen.add(state.phase === 'Live' ? (state.status === 'Failed' ? `Failed/${state.rollback}` : state.status) : state.phase);
          for (const event of record.events) seen.add(event.type);
        }
      }),
      { numRuns: 200, seed: 1 },
    );
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        'Absent', 'Rejected', 'Available', 'InProgress', 'Completed',
        'Failed/pending', 'Failed/running', 'Failed/done', 'Failed/failed',
        'TaskSubmitted', 'TaskRejected', 'AttemptDispatched', 'AttemptStarted', 'AttemptProgressed', 'AttemptSucceeded',
        'AttemptFailed', 'TaskCompleted', 'TaskFailed', 'RollbackDispatched', 'RollbackSucceeded', 'RollbackFailed',
        'RollbackRetryRequested', 'CommandRejected', 'TaskExpunged',
      ]),
    );
  });
});

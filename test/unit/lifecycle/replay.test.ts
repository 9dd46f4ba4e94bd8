import { describe, expect, it } from 'vitest';
import {
  decide,
  evolve,
  initialState,
  type LifecycleEvent,
  type LifecycleInput,
  type TaskState,
} from '../../../processors/lifecycle/index.js';
import { cancel, context, result, retryRollback, submit, T0, tick } from './fixtures.js';

/** Drives a whole life through decide and evolve, recording each event with the time it happened. */
function live(steps: Array<[LifecycleInput, number]>): { state: TaskState; log: Array<[LifecycleEvent, number]> } {
  let state = initialState;
  const log: Array<[LifecycleEvent, number]> = [];
  for (const [input, now] of steps) {
    for (const event of decide(input, state, context(now))) {
      state = evolve(state, event, now);
      log.push([event, now]);
    }
  }
  return { state, log };
}

describe('replay: events are facts', () => {
  const options = { maxAttempts: 3, attemptTimeoutMs: 10_000, heartbeatTimeoutMs: 2_000, rollbackMaxAttempts: 2 };
  const steps: Array<[LifecycleInput, number]> = [
    [submit(options), T0],
    [result('AttemptStarted', { attempt: 1, workerId: 'w1' }), T0 + 100],
    [result('AttemptProgress', { attempt: 1, workerId: 'w1', percent: 30, message: 'working' }), T0 + 1_500],
    [tick, T0 + 3_500], // heartbeat missed: attempt 1 times out, retry in 1 s
    [tick, T0 + 4_500], // attempt 2 dispatched
    [result('AttemptHeartbeat', { attempt: 2, workerId: 'w2' }), T0 + 5_000],
    [result('AttemptSucceeded', { attempt: 1, workerId: 'w1', output: '"stale"' }), T0 + 5_100],
    [result('AttemptFailed', { attempt: 2, workerId: 'w2', message: 'disk full', retriable: false }), T0 + 6_000],
    [result('RollbackFailed', { rollbackAttempt: 1, workerId: 'r1', message: 'agent down' }), T0 + 7_000],
    [tick, T0 + 8_000],
    [tick, T0 + 38_000], // rollback 2 (at least 30 s) times out: gave up
    [retryRollback(), T0 + 60_000],
    [cancel(), T0 + 60_001],
    [result('RollbackSucceeded', { rollbackAttempt: 3, workerId: 'r3' }), T0 + 61_000],
  ];

  it('folding the emitted events again from initialState gives exactly the same state, even days later', () => {
    const { state, log } = live(steps);
    expect(state).toMatchObject({ phase: 'Live', status: 'Failed', rollback: 'done', rollbackAttempt: 3, sequence: log.length });
    const replayed = log.reduce((current, [event, now]) => evolve(current, event, now), initialState);
    expect(replayed).toEqual(state);
    // Deciding again on the replayed state at a much later time changes no deadline already taken.
    expect(decide(tick, replayed, context(T0 + 61_001))).toEqual([]);
  });

  it('every intermediate state survives a JSON round trip unchanged', () => {
    const { log } = live(steps);
    log.reduce((current, [event, now]) => {
      const next = evolve(current, event, now);
      expect(JSON.parse(JSON.stringify(next))).toEqual(next);
      return next;
    }, initialState);
  });
});

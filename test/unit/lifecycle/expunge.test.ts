import { describe, expect, it } from 'vitest';
import { initialState, nextDeadline, retiredState } from '../../../processors/lifecycle/index.js';
import { cancel, event, result, retryRollback, rollingBack, running, submit, T0, tick } from './fixtures.js';
import { given, givenState, givenWith } from './given.js';

const HOUR = 3_600_000;
const completed = [...running(), event('AttemptSucceeded', { attempt: 1, output: '1' }), event('TaskCompleted', { output: '1' })];
const rolledBack = [...rollingBack(), event('RollbackSucceeded', { rollbackAttempt: 1 })];
const rejected = [event('TaskRejected', { code: 'UNKNOWN_KIND', message: 'x' })];

describe('deletion after a grace period (rule 11)', () => {
  it.each([
    ['completed', completed],
    ['rolled back', rolledBack],
    ['rejected', rejected],
  ])('a %s task is expunged one grace period after it became consistent', (_name, history) => {
    const scenario = given(...history);
    expect(nextDeadline(scenario.state)).toBe(T0 + HOUR);
    scenario.when(tick, T0 + HOUR - 1).then([]);
    const { state, effects } = scenario.when(tick, T0 + HOUR).then([event('TaskExpunged', {})]);
    expect(state).toEqual(initialState);
    expect(effects).toEqual([[{ type: 'expunge' }]]);
  });

  it('the grace period comes from the defaults given to evolve', () => {
    const scenario = givenWith({ expungeGraceMs: 60_000 }, ...completed);
    expect(nextDeadline(scenario.state)).toBe(T0 + 60_000);
    scenario.when(tick, T0 + 60_000).then([event('TaskExpunged', {})]);
  });

  it('is counted from the event that made the task consistent', () => {
    const scenario = given(...rollingBack()).at(T0 + 5_000, event('RollbackSucceeded', { rollbackAttempt: 1 }));
    expect(nextDeadline(scenario.state)).toBe(T0 + 5_000 + HOUR);
  });

  it('a failed rollback is never expunged', () => {
    const gaveUp = [...rollingBack({ rollbackMaxAttempts: 1 }), event('RollbackFailed', { rollbackAttempt: 1, message: 'x', retryAt: null })];
    expect(nextDeadline(given(...gaveUp).state)).toBeNull();
    given(...gaveUp).when(tick, T0 + 1_000 * HOUR).then([]);
  });

  it('a re-run rollback takes the expunge time away until it is done again', () => {
    const rerun = given(...rolledBack).when(result('AttemptSucceeded', { attempt: 1, workerId: 'late', output: '1' }), T0 + 10);
    expect(nextDeadline(rerun.state)).toBe(T0 + 300_010);
    // At the old expunge time only the re-run rollback's own deadline is acted on.
    const later = given(...rolledBack, ...rerun.events).when(tick, T0 + HOUR);
    expect(later.events.map((e) => e.type)).toEqual(['RollbackFailed']);
  });

  it('after expunge the id is free: results and commands see no task, a submission makes a new one', () => {
    const gone = [...completed, event('TaskExpunged', {})];
    given(...gone).when(result('AttemptSucceeded', { attempt: 1, workerId: 'w1', output: '1' })).then([]);
    expect(given(...gone).when(submit(), T0 + 2 * HOUR).events.map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched']);
  });

  it('within the idempotency window the id stays spent: a retried submission, results and ticks change nothing', () => {
    const retired = givenState(retiredState);
    retired.when(submit(), T0 + 24 * HOUR).then([]);
    retired.when(submit({ idempotencyKey: 'the-same-key' }), T0 + 24 * HOUR).then([]);
    retired.when(result('AttemptSucceeded', { attempt: 1, workerId: 'late', output: '1' })).then([]);
    retired.when(tick, T0 + 1_000 * HOUR).then([]);
    expect(nextDeadline(retiredState)).toBeNull();
  });

  it('within the idempotency window a command is answered, and the answer leaves the id spent', () => {
    const cancelled = givenState(retiredState).when(cancel('too late'));
    cancelled.then([event('CommandRejected', { command: 'CancelTask', code: 'TASK_NOT_CANCELLABLE', message: 'the task has ended and left the broker' })]);
    expect(cancelled.state).toEqual(retiredState);
    const retried = givenState(retiredState).when(retryRollback());
    expect(retried.events).toMatchObject([{ type: 'CommandRejected', body: { code: 'ROLLBACK_NOT_FAILED' } }]);
  });
});


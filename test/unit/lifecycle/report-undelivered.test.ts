import { describe, expect, it } from 'vitest';
import { retiredState } from '../../../processors/lifecycle/index.js';
import { event, reportUndelivered, rollingBack, running, T0 } from './fixtures.js';
import { given, givenState } from './given.js';

const report = (message = 'POST to https://h.test/x failed 6 times; the last: answered 503') => reportUndelivered(message);
const completed = [...running(), event('AttemptSucceeded', { attempt: 1, output: '1' }), event('TaskCompleted', { output: '1' })];

describe('a webhook the notifier gave up on', () => {
  it.each([
    ['completed', completed],
    ['rolled back', [...rollingBack(), event('RollbackSucceeded', { rollbackAttempt: 1 })]],
    ['rejected', [event('TaskRejected', { code: 'UNKNOWN_KIND', message: 'x' })]],
  ])('is recorded on a %s task, which is otherwise unchanged', (_name, history) => {
    const scenario = given(...history);
    const { state } = scenario.when(report(), T0 + 5_000).then([event('ReplyUndelivered', { target: 'https://h.test/x', code: 'WEBHOOK_UNDELIVERED', message: 'POST to https://h.test/x failed 6 times; the last: answered 503' })]);
    expect({ ...state, sequence: 0, updatedAt: 0 }).toEqual({ ...scenario.state, sequence: 0, updatedAt: 0 });
  });

  it('is not recorded for a task no longer held: the dead letter is the record', () => {
    given().when(report()).then([]);
    givenState(retiredState).when(report()).then([]);
  });

  it('keeps a hostile message bounded', () => {
    const { events } = given(...completed).when(report('x'.repeat(100_000)));
    expect((events[0]?.body as { message: string }).message.length).toBeLessThan(2_100);
  });
});

import { describe, expect, it } from 'vitest';
import { foldEvents, initialState, sequenceOf } from '../../../processors/lifecycle/index.js';
import { accepted, event, running, T0 } from './fixtures.js';
import { given } from './given.js';

describe('foldEvents numbers events for their envelopes', () => {
  it('each event gets the sequence of the state it produced', () => {
    const { state, sequences } = foldEvents(initialState, running(), T0);
    expect(sequences).toEqual([1, 2, 3]);
    expect(sequenceOf(state)).toBe(3);
  });

  it('TaskExpunged is numbered one past the last event, though the state is gone', () => {
    const completed = given(...running(), event('AttemptSucceeded', { attempt: 1, output: '1' }), event('TaskCompleted', { output: '1' }));
    const { state, sequences } = foldEvents(completed.state, [event('TaskExpunged', {})], T0);
    expect(sequences).toEqual([6]);
    expect(state).toEqual(initialState);
  });

  it('a rejected command about no task is not numbered (0)', () => {
    const { sequences } = foldEvents(initialState, [event('CommandRejected', { command: 'CancelTask', code: 'TASK_NOT_FOUND', message: 'x' })], T0);
    expect(sequences).toEqual([0]);
  });

  it('continues from the state it is given', () => {
    expect(foldEvents(given(...accepted()).state, [event('AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null })], T0).sequences).toEqual([3]);
  });
});

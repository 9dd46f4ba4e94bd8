import { describe, expect, it } from 'vitest';
import { bounded, TEXT_LIMITS, taskView, type LiveState, type TaskState } from '../../../processors/lifecycle/index.js';
import { accepted, event, result, rollingBack, running, T0 } from './fixtures.js';
import { given } from './given.js';

const live = (state: TaskState): LiveState => {
  if (state.phase !== 'Live') throw new Error(`expected a live task, got ${state.phase}`);
  return state;
};

describe('AttemptStarted, heartbeats and progress (rule 2)', () => {
  it('a start of the current attempt makes the task InProgress', () => {
    const { state } = given(...accepted()).when(result('AttemptStarted', { attempt: 1, workerId: 'w1' }), T0 + 10).then([
      event('AttemptStarted', { attempt: 1, workerId: 'w1', heartbeatDeadlineAt: null }),
    ]);
    expect(live(state)).toMatchObject({ status: 'InProgress', workerId: 'w1', startedAt: T0 + 10 });
  });

  it('with a heartbeat timeout, the start sets the first heartbeat deadline', () => {
    given(...accepted({ heartbeatTimeoutMs: 5_000 })).when(result('AttemptStarted', { attempt: 1, workerId: 'w1' }), T0 + 10).then([
      event('AttemptStarted', { attempt: 1, workerId: 'w1', heartbeatDeadlineAt: T0 + 5_010 }),
    ]);
  });

  it('a heartbeat is recorded as a repeated start that moves the heartbeat deadline', () => {
    const { state } = given(...running({ heartbeatTimeoutMs: 5_000 }))
      .when(result('AttemptHeartbeat', { attempt: 1, workerId: 'w1' }), T0 + 4_000)
      .then([event('AttemptStarted', { attempt: 1, workerId: 'w1', heartbeatDeadlineAt: T0 + 9_000 })]);
    // Still the original start: a heartbeat is no new start.
    expect(live(state)).toMatchObject({ status: 'InProgress', startedAt: T0, heartbeatDeadlineAt: T0 + 9_000 });
  });

  it('a heartbeat without a heartbeat timeout changes nothing', () => {
    given(...running()).when(result('AttemptHeartbeat', { attempt: 1, workerId: 'w1' }), T0 + 1).then([]);
  });

  it('a heartbeat before any start report counts as the start', () => {
    given(...accepted()).when(result('AttemptHeartbeat', { attempt: 1, workerId: 'w2' }), T0 + 1).then([
      event('AttemptStarted', { attempt: 1, workerId: 'w2', heartbeatDeadlineAt: null }),
    ]);
  });

  it('progress is recorded and extends the heartbeat deadline from the time it arrives', () => {
    const progress = result('AttemptProgress', { attempt: 1, workerId: 'w1', percent: 40, message: 'halfway-ish' });
    const { state } = given(...running({ heartbeatTimeoutMs: 5_000 }))
      .when(progress, T0 + 3_000)
      .then([event('AttemptProgressed', { attempt: 1, percent: 40, message: 'halfway-ish' })]);
    expect(live(state)).toMatchObject({ progress: { percent: 40, message: 'halfway-ish' }, heartbeatDeadlineAt: T0 + 8_000 });
  });

  it('progress before any start report emits the start first', () => {
    given(...accepted()).when(result('AttemptProgress', { attempt: 1, workerId: 'w1', percent: 5, message: null }), T0 + 2).then([
      event('AttemptStarted', { attempt: 1, workerId: 'w1', heartbeatDeadlineAt: null }),
      event('AttemptProgressed', { attempt: 1, percent: 5, message: null }),
    ]);
  });
});

describe('AttemptSucceeded (rule 5)', () => {
  it('completes the task with the output', () => {
    const { state } = given(...running()).when(result('AttemptSucceeded', { attempt: 1, workerId: 'w1', output: '{"ok":true}' }), T0 + 50).then([
      event('AttemptSucceeded', { attempt: 1, output: '{"ok":true}' }),
      event('TaskCompleted', { output: '{"ok":true}' }),
    ]);
    expect(taskView(state)).toMatchObject({ status: 'Completed', rollback: null, output: '{"ok":true}' });
  });

  it('completes a task whose start was never reported, recording the start with the result', () => {
    // Workers report no start for quick attempts: the history still says who ran it.
    const { state } = given(...accepted()).when(result('AttemptSucceeded', { attempt: 1, workerId: 'w1', output: '1' })).then([
      event('AttemptStarted', { attempt: 1, workerId: 'w1', heartbeatDeadlineAt: null }),
      event('AttemptSucceeded', { attempt: 1, output: '1' }),
      event('TaskCompleted', { output: '1' }),
    ]);
    expect(taskView(state)).toMatchObject({ status: 'Completed', workerId: 'w1' });
  });

  it('bounds a hostile worker id it records with a result, as it does a reported start', () => {
    const { events } = given(...accepted()).when(result('AttemptFailed', { attempt: 1, workerId: 'w'.repeat(1_000_000), message: 'x', retriable: false }));
    const start = events.find((e) => e.type === 'AttemptStarted');
    expect((start?.body as { workerId: string }).workerId).toBe(bounded('w'.repeat(1_000_000), TEXT_LIMITS.workerId));
    expect((start?.body as { workerId: string }).workerId.length).toBeLessThan(TEXT_LIMITS.workerId + 40);
  });
});

describe('fencing: stale results change nothing (rule 8)', () => {
  const retrying = [
    ...running({ maxAttempts: 3 }),
    event('AttemptFailed', { attempt: 1, reason: 'error', message: 'x', retryAt: T0 + 1_000 }),
  ];
  const second = [...retrying, event('AttemptDispatched', { attempt: 2, deadlineAt: T0 + 300_000 })];

  it.each([
    ['AttemptStarted', result('AttemptStarted', { attempt: 1, workerId: 'old' })],
    ['AttemptHeartbeat', result('AttemptHeartbeat', { attempt: 1, workerId: 'old' })],
    ['AttemptProgress', result('AttemptProgress', { attempt: 1, workerId: 'old', percent: 99, message: null })],
    ['AttemptSucceeded', result('AttemptSucceeded', { attempt: 1, workerId: 'old', output: '1' })],
    ['AttemptFailed', result('AttemptFailed', { attempt: 1, workerId: 'old', message: 'x', retriable: true })],
    ['a future attempt', result('AttemptSucceeded', { attempt: 3, workerId: 'bogus', output: '1' })],
  ])('%s of an older attempt is ignored', (_name, input) => {
    given(...second).when(input, T0 + 2_000).then([]);
  });

  it('results of the failed attempt are ignored while its retry waits', () => {
    given(...retrying).when(result('AttemptSucceeded', { attempt: 1, workerId: 'w1', output: '1' }), T0 + 500).then([]);
    given(...retrying).when(result('AttemptStarted', { attempt: 1, workerId: 'w1' }), T0 + 500).then([]);
  });

  it('attempt results for a completed task are ignored', () => {
    const completed = [...running(), event('AttemptSucceeded', { attempt: 1, output: '1' }), event('TaskCompleted', { output: '1' })];
    given(...completed).when(result('AttemptSucceeded', { attempt: 1, workerId: 'w1', output: '2' })).then([]);
    given(...completed).when(result('AttemptFailed', { attempt: 1, workerId: 'w1', message: 'x', retriable: false })).then([]);
  });

  it('results for a task that does not exist, or was rejected, are ignored', () => {
    given().when(result('AttemptSucceeded', { attempt: 1, workerId: 'w1', output: '1' })).then([]);
    given(event('TaskRejected', { code: 'UNKNOWN_KIND', message: 'x' })).when(result('RollbackSucceeded', { rollbackAttempt: 1, workerId: 'w' })).then([]);
  });

  it('rollback results of another rollback attempt, or while no rollback runs, are ignored', () => {
    given(...rollingBack()).when(result('RollbackSucceeded', { rollbackAttempt: 2, workerId: 'w' })).then([]);
    given(...rollingBack()).when(result('RollbackFailed', { rollbackAttempt: 0, workerId: 'w', message: 'x' })).then([]);
    given(...running()).when(result('RollbackSucceeded', { rollbackAttempt: 0, workerId: 'w' })).then([]);
    const waiting = [...rollingBack(), event('RollbackFailed', { rollbackAttempt: 1, message: 'x', retryAt: T0 + 1_000 })];
    given(...waiting).when(result('RollbackFailed', { rollbackAttempt: 1, workerId: 'w', message: 'again' })).then([]);
  });
});

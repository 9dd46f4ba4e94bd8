// The worker runtime on the kafka channel, end to end through the real broker:
// probe tasks succeed, fail and roll back, hang and time out, and long work stays
// alive through heartbeats.
import { describe, expect, it } from 'vitest';
import { useBrokerAndWorker } from '../../support/broker-and-worker.js';

const { config, client, log, worker: runningWorker } = useBrokerAndWorker('worker', 3);

const ends = (last: string) => (types: string[]) => types[types.length - 1] === last;

describe('probe worker on the kafka channel', () => {
  it('completes, fails and rolls back, and times out as the payload says', async () => {
    const ok = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 50 } });
    const bad = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'fail' } });
    const hung = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'hang' }, timeoutMs: 1000 });
    const completed = await log.waitFor(ok.taskId, ends('TaskCompleted'));
    expect(JSON.parse((completed[completed.length - 1]?.body as { output: string }).output)).toEqual({ probe: 'ok', attempt: 1 });
    expect(completed.find((e) => e.type === 'AttemptStarted')?.body).toMatchObject({ workerId: runningWorker().workerId });
    await log.waitFor(bad.taskId, ends('RollbackSucceeded'));
    const timedOut = await log.waitFor(hung.taskId, ends('RollbackSucceeded'));
    expect(timedOut.find((e) => e.type === 'TaskFailed')?.body).toMatchObject({ reason: 'timeout' });
  });

  it('keeps a long attempt alive with heartbeats', { timeout: 90_000 }, async () => {
    // The attempt lasts 3.5 heartbeat timeouts. The timeout is 2 s, not less: the broker reads
    // heartbeats from task.results, and when the full suite loads Kafka it recorded them up to
    // 1.2 s late (worker-crash.test.ts), which timed out a healthy attempt at 500 ms.
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 7000 }, heartbeatTimeoutMs: 2000, timeoutMs: 60_000 });
    const history = await log.waitFor(taskId, ends('TaskCompleted'), 60_000);
    expect(history.map((e) => e.type)).not.toContain('AttemptFailed');
    // Heartbeats moved the heartbeat deadline forward (each is a repeated AttemptStarted).
    expect(history.filter((e) => e.type === 'AttemptStarted').length).toBeGreaterThan(2);
  });

  it('fails an attempt whose output is over STACKL_MAX_OUTPUT_BYTES, saying why, and completes one just under it', async () => {
    const over = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', outputBytes: config.maxOutputBytes } });
    const under = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', outputBytes: config.maxOutputBytes - 100 } });
    const failed = await log.waitFor(over.taskId, ends('RollbackSucceeded'));
    expect(failed.find((e) => e.type === 'AttemptFailed')?.body).toMatchObject({ message: expect.stringMatching(/^the output of probe\/run is \d+ bytes of JSON, more than the 262144 allowed/), retryAt: null });
    const completed = await log.waitFor(under.taskId, ends('TaskCompleted'));
    expect((completed[completed.length - 1]?.body as { output: string }).output.length).toBeLessThanOrEqual(config.maxOutputBytes);
  });

  it('fails a rollback that fails as asked and leaves it to an operator', async () => {
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'fail', rollback: 'fail' }, rollbackMaxAttempts: 1 });
    const history = await log.waitFor(taskId, ends('RollbackFailed'));
    expect(history[history.length - 1]?.body).toMatchObject({ retryAt: null });
    expect(runningWorker().stats().rollbacks).toBeGreaterThan(0);
  });
});

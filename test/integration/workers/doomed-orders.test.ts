// A work order that can no longer finish before its deadline is not started: the worker
// skips it and counts it, the broker's timeout fails the task and its rollback runs as
// usual. Before, the worker started it, held a slot until the deadline, and reported
// nothing.
import { describe, expect, it } from 'vitest';
import { useBrokerAndWorker } from '../../support/broker-and-worker.js';

const { client, log, worker: runningWorker } = useBrokerAndWorker('doomed', 2);

describe('an order that cannot finish before its deadline', () => {
  it('is not started; the task times out and rolls back, while one that fits runs', async () => {
    const doomed = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 10_000 }, timeoutMs: 2_000, maxAttempts: 1 });
    const fits = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 500 }, timeoutMs: 2_000, maxAttempts: 1 });
    const history = await log.waitFor(doomed.taskId, (t) => t.includes('RollbackSucceeded'));
    expect(history.map((e) => e.type)).not.toContain('AttemptStarted');
    expect(history.find((e) => e.type === 'TaskFailed')?.body).toMatchObject({ reason: 'timeout' });
    await log.waitFor(fits.taskId, (t) => t.includes('TaskCompleted'));
    expect(runningWorker().stats()).toMatchObject({ skipped: 1, attempts: 1, succeeded: 1 });
  });
});

// On the kafka channel a slow order must not hold back the orders behind it on its
// partition (the long chaos run saw rollbacks of other tasks expire behind stack tasks
// waiting for their agent). One partition, so every order shares it.
import { describe, expect, it } from 'vitest';
import { useBrokerAndWorker } from '../../support/broker-and-worker.js';

const { client, log } = useBrokerAndWorker('channel-order', 1);

const completedAt = (taskId: string) => log.byTask.get(taskId)?.find((e) => e.type === 'TaskCompleted')?.time;

describe('kafka channel', () => {
  it('runs an order behind a slow one on the same partition without waiting for it', async () => {
    const slow = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 6_000 } });
    const quick = await Promise.all(Array.from({ length: 3 }, () => client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } })));
    for (const q of quick) await log.waitFor(q.taskId, (t) => t.includes('TaskCompleted'));
    await log.waitFor(slow.taskId, (t) => t.includes('TaskCompleted'), 30_000);
    const slowDone = completedAt(slow.taskId) ?? 0;
    for (const q of quick) expect((completedAt(q.taskId) ?? Number.POSITIVE_INFINITY) < slowDone).toBe(true);
  });
});

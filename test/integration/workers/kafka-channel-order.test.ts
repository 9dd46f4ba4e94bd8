// On the kafka channel a slow order must not hold back the orders behind it on its
// partition (the long chaos run saw rollbacks of other tasks expire behind stack tasks
// waiting for their agent). One partition, so every order shares it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('channel-order'), STACKL_PARTITIONS: '1' });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);
let broker: RunningLifecycleApp;
let worker: Worker;

beforeAll(async () => {
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: '4' });
  await log.start();
});
afterAll(async () => {
  await Promise.all([worker.stop(), log.stop(), client.close()]);
  await broker.stop();
});

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

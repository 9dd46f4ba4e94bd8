// A work order that can no longer finish before its deadline is not started: the worker
// skips it and counts it, the broker's timeout fails the task and its rollback runs as
// usual. Before, the worker started it, held a slot until the deadline, and reported
// nothing.
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

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('doomed'), STACKL_PARTITIONS: '2' });
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

describe('an order that cannot finish before its deadline', () => {
  it('is not started; the task times out and rolls back, while one that fits runs', async () => {
    const doomed = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 10_000 }, timeoutMs: 2_000, maxAttempts: 1 });
    const fits = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 500 }, timeoutMs: 2_000, maxAttempts: 1 });
    const history = await log.waitFor(doomed.taskId, (t) => t.includes('RollbackSucceeded'));
    expect(history.map((e) => e.type)).not.toContain('AttemptStarted');
    expect(history.find((e) => e.type === 'TaskFailed')?.body).toMatchObject({ reason: 'timeout' });
    await log.waitFor(fits.taskId, (t) => t.includes('TaskCompleted'));
    expect(worker.stats()).toMatchObject({ skipped: 1, attempts: 1, succeeded: 1 });
  });
});

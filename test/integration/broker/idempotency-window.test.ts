// An idempotency key is honoured for the idempotency window, not only while the task is
// in the broker's state: a producer's retry after the task was expunged changes nothing,
// also after a restart (the window lives in the changelog), and runs again once the
// window is over. On the real broker, with a short grace and windows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { topicNames } from '../../../topics/names.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { token, uniquePrefix } from '../../support/names.js';
import { ScriptedWorker } from '../../support/probe-worker.js';

const kafka = testKafka();
const probe = { kind: 'probe', action: 'run', payload: { outcome: 'succeed' } };
const submitted = (log: EventLog, taskId: string) => log.types(taskId).filter((t) => t === 'TaskSubmitted').length;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await pause(50);
  }
}

function world(label: string) {
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix(label), STACKL_PARTITIONS: '2' });
  const topics = topicNames(config.topicPrefix);
  return { config, client: new KafkaBrokerClient(kafka, topics.requests, config.partitions), log: new EventLog(kafka, topics.events), worker: new ScriptedWorker(kafka, topics) };
}

describe('the idempotency window', () => {
  const w = world('idem-window');
  const start = () => startLifecycleApp(w.config, { tickIntervalMs: 20, defaults: { expungeGraceMs: 200 }, idempotencyWindowMs: 3_600_000 });
  let broker: RunningLifecycleApp;

  beforeAll(async () => {
    broker = await start();
    await w.worker.start();
    await w.log.start();
  });
  afterAll(async () => {
    await Promise.all([w.worker.stop(), w.log.stop(), w.client.close()]);
    await broker.stop();
  });

  it('recognises a retried submission after its task left the broker, also after a restart', async () => {
    const key = `order-${token()}`;
    const { taskId } = await w.client.submit({ ...probe, idempotencyKey: key });
    await w.log.waitFor(taskId, (t) => t.includes('TaskExpunged'));
    // The log may show the commit before the broker applied it to memory.
    await until(() => broker.app.stats().retiredKeys >= 1);
    expect(broker.app.get(taskId)).toBeUndefined();

    const retry = await w.client.submit({ ...probe, idempotencyKey: key });
    expect(retry.taskId).toBe(taskId);
    await pause(1_500);
    expect(submitted(w.log, taskId)).toBe(1);

    await broker.stop();
    broker = await start();
    expect(broker.app.stats().retiredKeys).toBeGreaterThanOrEqual(1);
    await w.client.submit({ ...probe, idempotencyKey: key });
    const { taskId: other } = await w.client.submit(probe);
    await w.log.waitFor(other, (t) => t.includes('TaskCompleted'));
    expect(submitted(w.log, taskId)).toBe(1);
  });
});

describe('when the window is over', () => {
  const w = world('idem-over');
  let broker: RunningLifecycleApp;

  beforeAll(async () => {
    broker = await startLifecycleApp(w.config, { tickIntervalMs: 20, defaults: { expungeGraceMs: 200 }, idempotencyWindowMs: 1_500 });
    await w.worker.start();
    await w.log.start();
  });
  afterAll(async () => {
    await Promise.all([w.worker.stop(), w.log.stop(), w.client.close()]);
    await broker.stop();
  });

  it('forgets the id, writes its tombstone, and a new submission with the key runs again', async () => {
    const key = `late-${token()}`;
    const { taskId } = await w.client.submit({ ...probe, idempotencyKey: key });
    await w.log.waitFor(taskId, (t) => t.includes('TaskExpunged'));
    await until(() => broker.app.stats().retiredKeys === 0, 15_000);
    await w.client.submit({ ...probe, idempotencyKey: key });
    await w.log.waitFor(taskId, (t) => t.filter((x) => x === 'TaskCompleted').length === 2);
    expect(submitted(w.log, taskId)).toBe(2);
  });
});

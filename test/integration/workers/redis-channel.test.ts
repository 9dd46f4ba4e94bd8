// The `redis` channel behind its relay, on the real broker and a private Redis:
// probe tasks run end to end; a worker killed mid-task has its order requeued when its
// lease expires; a Redis that restarts empty loses no task; an undecodable order is
// dead-lettered without holding back the relay's committed offsets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import type { RedisRelay } from '../../../channels/redis-relay.js';
import { RELAY_APP, startRedisRelay } from '../../../channels/start-relay.js';
import { consumerGroup, topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { PrivateRedis } from '../../support/redis-server.js';
import { RoleProcess } from '../../support/role-process.js';

const redis = new PrivateRedis();
const env = () => ({ STACKL_TOPIC_PREFIX: prefix, STACKL_PARTITIONS: '3', REDIS_URL: redis.url, STACKL_CHANNEL: 'redis', STACKL_WORKER_LEASE_MS: '1000' });
const prefix = uniquePrefix('redis-channel');
let config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: prefix, STACKL_PARTITIONS: '3' });
const topics = topicNames(prefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, 3);
const log = new EventLog(kafka, topics.events);
let broker: RunningLifecycleApp;
let relay: RedisRelay;
const workers: Worker[] = [];

beforeAll(async () => {
  await redis.start();
  config = loadConfig({ ...process.env, ...env() });
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  relay = await startRedisRelay(config);
  await log.start();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all([log.stop(), client.close(), relay.stop()]);
  await broker.stop();
  await redis.stop();
});

const done = (types: string[]) => types.includes('TaskCompleted') || types.includes('RollbackSucceeded');

describe('redis channel', () => {
  it('runs probe tasks end to end through the relay', async () => {
    workers.push(await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' }));
    const ok = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
    const bad = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'fail' } });
    expect((await log.waitFor(ok.taskId, done)).map((e) => e.type)).toContain('TaskCompleted');
    expect((await log.waitFor(bad.taskId, done)).map((e) => e.type)).toContain('RollbackSucceeded');
    // The success, the failure and the rollback's result (quick probes report no start of their own).
    expect(relay.stats().resultsRelayed).toBeGreaterThanOrEqual(3);
  });

  it('requeues the order of a worker killed mid-task once its lease expires', { timeout: 90_000 }, async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const doomed = new RoleProcess('worker', env(), /worker ready/);
    await doomed.start();
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 3000 }, timeoutMs: 60_000 });
    await log.waitFor(taskId, (t) => t.includes('AttemptStarted'));
    await doomed.kill('SIGKILL');
    workers.push(await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' }));
    const history = await log.waitFor(taskId, (t) => t.includes('TaskCompleted'), 60_000);
    expect(history.filter((e) => e.type === 'AttemptStarted').length).toBeGreaterThanOrEqual(2);
    expect(relay.stats().ordersRequeued).toBeGreaterThanOrEqual(1);
  });

  it('loses no task when Redis restarts empty in the middle of a run', { timeout: 120_000 }, async () => {
    const receipts = await client.submitMany(
      Array.from({ length: 150 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 100 }, attemptTimeoutMs: 4000, maxAttempts: 5, retryBackoff: { initialMs: 100, multiplier: 1, maxMs: 100 }, timeoutMs: 90_000 })),
    );
    const ids = receipts.map((r) => r.taskId);
    await log.waitForAll(() => ids.filter((id) => log.types(id).includes('TaskCompleted')).length >= 20, 30_000, () => 'first tasks');
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await redis.start();
    await log.waitForAll(
      () => ids.every((id) => log.types(id).includes('TaskCompleted')),
      100_000,
      () => `${ids.filter((id) => !log.types(id).includes('TaskCompleted')).length} tasks not completed; relay ${JSON.stringify(relay.stats())}`,
    );
    expect(relay.stats().redisRestarts).toBeGreaterThanOrEqual(1);
    for (const id of ids) expect(log.types(id).filter((t) => t === 'TaskCompleted')).toHaveLength(1);
  });

  it('dead-letters an undecodable order and still commits past it', { timeout: 60_000 }, async () => {
    if (workers.length === 0) workers.push(await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' }));
    const producer = kafka.producer();
    await producer.connect();
    const [poison] = await producer.send({ topic: topics.dispatch, messages: [{ key: 'not-a-task', value: Buffer.from('definitely not Avro'), partition: 0 }] });
    await producer.disconnect();
    const poisonOffset = BigInt(poison?.baseOffset ?? '-1');
    // Orders after the poison on every partition, so the relay has something to acknowledge past it.
    const receipts = await client.submitMany(Array.from({ length: 30 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } })));
    await log.waitForAll(() => receipts.every((r) => log.types(r.taskId).includes('TaskCompleted')), 30_000, () => 'tasks after the poison');
    const admin = kafka.admin();
    await admin.connect();
    try {
      let committed = -1n;
      const until = Date.now() + 20_000;
      while (committed <= poisonOffset && Date.now() < until) {
        const [offsets] = await admin.fetchOffsets({ groupId: consumerGroup(prefix, RELAY_APP), topics: [topics.dispatch] });
        committed = BigInt(offsets?.partitions.find((p) => p.partition === 0)?.offset ?? '-1');
        if (committed <= poisonOffset) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(committed).toBeGreaterThan(poisonOffset);
    } finally {
      await admin.disconnect();
    }
  });
});

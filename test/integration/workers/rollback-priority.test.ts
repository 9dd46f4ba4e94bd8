// Rollback orders travel apart from run orders (task.rollbacks) and workers take them
// with slots of their own, on both channels. Here the worker's only run slot is held by
// a long task, so the run orders of short tasks wait and expire: their rollbacks must
// still run at once, not after the long task frees the slot (before, they queued on
// task.dispatch behind it; the 30-minute chaos run saw rollbacks expire there again and
// again under a backlog). Undecodable records on task.rollbacks, one per partition, go
// to the dead-letter topic with their origin, and the rollbacks behind them still run.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { startRelay } from '../../../channels/start-relay.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import { EventLog } from '../../support/event-log.js';
import { consumeCount, testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { PrivateRedis } from '../../support/redis-server.js';

const HOG_MS = 30_000;
const redis = new PrivateRedis();
const stoppers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const stop of stoppers.reverse()) await stop().catch(() => {});
});

describe.each(['kafka', 'redis'] as const)('on the %s channel, rollback orders', (channel) => {
  it('run while the only run slot is busy, ahead of the run orders waiting for it', { timeout: 90_000 }, async () => {
    const prefix = uniquePrefix(`rollback-lane-${channel}`);
    if (channel === 'redis') {
      await redis.start();
      stoppers.push(() => redis.stop());
    }
    const env = { ...process.env, STACKL_TOPIC_PREFIX: prefix, STACKL_PARTITIONS: '3', STACKL_CHANNEL: channel, REDIS_URL: redis.url, STACKL_SHUTDOWN_GRACE_MS: '500' };
    const config = loadConfig(env);
    const topics = topicNames(prefix);
    const kafka = testKafka();
    const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
    const log = new EventLog(kafka, topics.events);
    const broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    stoppers.push(() => broker.stop(), () => client.close(), () => log.stop());
    if (channel === 'redis') {
      const relay = await startRelay(config, undefined, env);
      stoppers.push(() => relay.stop());
    }
    const worker = await startWorker(config, { ...env, STACKL_WORKER_CONCURRENCY: '1' });
    stoppers.push(() => worker.stop());
    await log.start();
    const producer = kafka.producer();
    await producer.connect();
    const poison = ['random bytes', 'C3 01 and nothing after', 'deeply nested JSON'];
    const bodies = [Buffer.from([0x9f, 0x00, 0xff, 0x12]), Buffer.from([0xc3, 0x01]), Buffer.from(`${'['.repeat(20_000)}${']'.repeat(20_000)}`)];
    await producer.send({ topic: topics.rollbacks, messages: bodies.map((value, partition) => ({ key: poison[partition] ?? null, value, partition })) });
    await producer.disconnect();

    const hog = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: HOG_MS }, timeoutMs: 120_000 });
    await log.waitFor(hog.taskId, (t) => t.includes('AttemptStarted'), 30_000);
    const hogStartedAt = Date.now();
    const late = await client.submitMany(Array.from({ length: 3 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, timeoutMs: 2_000 })));

    for (const { taskId } of late) {
      const history = await log.waitFor(taskId, (t) => t.includes('RollbackSucceeded'), HOG_MS - 5_000);
      const types = history.map((e) => e.type);
      // Never started: the run slot was busy the whole time; the rollback had a slot of its own.
      expect(types).not.toContain('AttemptStarted');
      expect(history.find((e) => e.type === 'TaskFailed')?.body).toMatchObject({ reason: 'timeout' });
    }
    // All of it happened while the long task still held the run slot.
    expect(Date.now() - hogStartedAt).toBeLessThan(HOG_MS);
    expect(log.types(hog.taskId)).not.toContain('TaskCompleted');
    expect(worker.stats()).toMatchObject({ rollbacks: 3 });
    const dead = await consumeCount(kafka, topics.dlq, 3, { timeoutMs: 15_000 });
    expect(dead.map((d) => String(d.message.headers?.[DLQ_HEADERS.topic])).sort()).toEqual([topics.rollbacks, topics.rollbacks, topics.rollbacks]);
    expect(dead.map((d) => String(d.message.key)).sort()).toEqual([...poison].sort());
    await log.waitFor(hog.taskId, (t) => t.includes('TaskCompleted'), HOG_MS + 15_000);
  });
});

// The `rabbitmq` channel behind its relay, on the real broker and a private RabbitMQ node:
// probe tasks run end to end; the relay's committed offsets trail the orders workers have
// not finished (what the broker's shedding reads); a worker killed mid-task has its
// unacknowledged order delivered to another; a RabbitMQ killed and started again in the
// middle of a run loses no task and ends none twice; an undecodable order on Kafka and a
// forged message on a work queue are dead-lettered with their origin, and work goes on.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { rabbitWorkNames } from '../../../channels/rabbitmq-names.js';
import type { RabbitRelay } from '../../../channels/rabbitmq-relay.js';
import { RELAY_APP, startRabbitRelay } from '../../../channels/start-relay.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { kafkaBacklogReader } from '../../../topics/backlog.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { consumerGroup, topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { consumeCount, testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { PrivateRabbit } from '../../support/rabbitmq-server.js';
import { RoleProcess } from '../../support/role-process.js';

const rabbit = new PrivateRabbit();
const prefix = uniquePrefix('rabbitmq-channel');
const env = () => ({ STACKL_TOPIC_PREFIX: prefix, STACKL_PARTITIONS: '3', RABBITMQ_URL: rabbit.url, STACKL_CHANNEL: 'rabbitmq' });
let config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: prefix, STACKL_PARTITIONS: '3' });
const topics = topicNames(prefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, 3);
const log = new EventLog(kafka, topics.events);
let broker: RunningLifecycleApp;
let relay: RabbitRelay;
const workers: Worker[] = [];

const done = (types: string[]) => types.includes('TaskCompleted') || types.includes('RollbackSucceeded');
const header = (headers: Record<string, unknown> | undefined, name: string) => headers?.[name]?.toString();

beforeAll(async () => {
  await rabbit.start();
  config = loadConfig({ ...process.env, ...env() });
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  relay = await startRabbitRelay(config);
  await log.start();
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all([log.stop(), client.close(), relay.stop()]);
  await broker.stop();
  await rabbit.stop();
});

describe('rabbitmq channel', () => {
  it('runs probe tasks end to end through the relay', async () => {
    workers.push(await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' }));
    const ok = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
    const bad = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'fail' } });
    expect((await log.waitFor(ok.taskId, done)).map((e) => e.type)).toContain('TaskCompleted');
    expect((await log.waitFor(bad.taskId, done)).map((e) => e.type)).toContain('RollbackSucceeded');
    // The success, the failure and the rollback's result (quick probes report no start of their own).
    expect(relay.stats().resultsRelayed).toBeGreaterThanOrEqual(3);
  });

  it('commits an order only once a worker finished it, so the backlog counts orders in RabbitMQ', { timeout: 60_000 }, async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const admin = kafka.admin();
    await admin.connect();
    try {
      const read = kafkaBacklogReader(admin, topics, prefix, 'rabbitmq');
      const receipts = await client.submitMany(Array.from({ length: 12 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } })));
      // The relay sends them on to RabbitMQ at once, and still counts them as waiting.
      await expectEventually(async () => (await read()).orders, (orders) => orders >= 12, 'twelve orders counted as waiting with no worker');
      workers.push(await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' }));
      await log.waitForAll(() => receipts.every((r) => log.types(r.taskId).includes('TaskCompleted')), 30_000, () => 'the waiting tasks');
      await expectEventually(async () => (await read()).orders, (orders) => orders === 0, 'no order waiting once all finished');
    } finally {
      await admin.disconnect();
    }
  });

  it('delivers the order of a worker killed mid-task to another worker', { timeout: 90_000 }, async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const doomed = new RoleProcess('worker', env(), /worker ready/);
    await doomed.start();
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 3000 }, timeoutMs: 60_000 });
    await log.waitFor(taskId, (t) => t.includes('AttemptStarted'));
    await doomed.kill('SIGKILL');
    workers.push(await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' }));
    const history = await log.waitFor(taskId, (t) => t.includes('TaskCompleted'), 60_000);
    expect(history.filter((e) => e.type === 'AttemptStarted').length).toBeGreaterThanOrEqual(2);
  });

  it('loses no task and ends none twice when RabbitMQ is killed and started again mid-run', { timeout: 150_000 }, async () => {
    if (workers.length === 0) workers.push(await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' }));
    const receipts = await client.submitMany(
      Array.from({ length: 150 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 100 }, attemptTimeoutMs: 6000, maxAttempts: 5, retryBackoff: { initialMs: 100, multiplier: 1, maxMs: 100 }, timeoutMs: 120_000 })),
    );
    const ids = receipts.map((r) => r.taskId);
    await log.waitForAll(() => ids.filter((id) => log.types(id).includes('TaskCompleted')).length >= 20, 30_000, () => 'first tasks');
    await rabbit.kill();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await rabbit.start();
    await log.waitForAll(
      () => ids.every((id) => log.types(id).includes('TaskCompleted')),
      120_000,
      () => `${ids.filter((id) => !log.types(id).includes('TaskCompleted')).length} tasks not completed; relay ${JSON.stringify(relay.stats())}`,
    );
    for (const id of ids) expect(log.types(id).filter((t) => t === 'TaskCompleted')).toHaveLength(1);
  });

  it('dead-letters an undecodable order on Kafka and a forged message on a work queue, and works on', { timeout: 60_000 }, async () => {
    if (workers.length === 0) workers.push(await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' }));
    const producer = kafka.producer();
    await producer.connect();
    const [poison] = await producer.send({ topic: topics.dispatch, messages: [{ key: 'not-a-task', value: Buffer.from('definitely not Avro'), partition: 0 }] });
    await producer.disconnect();
    const connection = await amqp.connect(rabbit.url);
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(rabbitWorkNames(prefix).runs, Buffer.from('forged straight into the queue'), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();
    const receipts = await client.submitMany(Array.from({ length: 30 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } })));
    await log.waitForAll(() => receipts.every((r) => log.types(r.taskId).includes('TaskCompleted')), 30_000, () => 'tasks after the poison');

    const dead = (await consumeCount(kafka, topics.dlq, 2)).map((d) => d.message);
    const fromKafka = dead.find((m) => header(m.headers, DLQ_HEADERS.topic) === topics.dispatch);
    expect(header(fromKafka?.headers, DLQ_HEADERS.offset)).toBe(poison?.baseOffset);
    const fromQueue = dead.find((m) => header(m.headers, DLQ_HEADERS.topic) === `rabbitmq:${rabbitWorkNames(prefix).runs}`);
    expect(fromQueue?.value?.toString()).toBe('forged straight into the queue');
    expect(header(fromQueue?.headers, DLQ_HEADERS.code)).toBe('RABBITMQ_DEAD_LETTERED');

    const poisonOffset = BigInt(poison?.baseOffset ?? '-1');
    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = async () => {
        const [offsets] = await admin.fetchOffsets({ groupId: consumerGroup(prefix, RELAY_APP), topics: [topics.dispatch] });
        return BigInt(offsets?.partitions.find((p) => p.partition === 0)?.offset ?? '-1');
      };
      await expectEventually(committed, (offset) => offset > poisonOffset, 'the relay commits past the poison');
    } finally {
      await admin.disconnect();
    }
  });
});

async function expectEventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  let last: T | undefined;
  for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 200))) {
    last = await read();
    if (ok(last)) return;
  }
  throw new Error(`not within ${timeoutMs} ms: ${what} (last reading ${String(last)})`);
}

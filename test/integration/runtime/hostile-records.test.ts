// No record and no transient fault may stop, crash or fool the stream runtime (issue 12),
// each case on the real broker: records whose outputs Kafka refuses, records naming a
// topic nobody may write, transient errors, lost commit answers, failing timers, fencing,
// failed and crashed restores, an undecodable changelog record.
import kafkajs, { type Consumer, type ConsumerConfig } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PartitionProducer } from '../../../processors/runtime/partition-producer.js';
import type { StreamApp } from '../../../processors/runtime/stream-app.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { loadConfig } from '../../../core/config.js';
import { consumeCount, createTopic, readFor, testKafka, type Consumed } from '../../support/kafka.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { token } from '../../support/names.js';
import type { Count } from './counter-app.js';
import { Faults, hostileApp, type HostileTopics } from './hostile-app.js';
import { loseOneProduceAnswer } from './lost-answers.js';


const kafka = testKafka();
const PARTITIONS = 3;
const running: StreamApp<Count>[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(running.splice(0).map((app) => app.stop()));
});

async function setup(): Promise<{ topics: HostileTopics; groupId: string }> {
  const id = token();
  const topics = { input: `rh.in.${id}`, output: `rh.out.${id}`, reply: `rh.reply.${id}`, changelog: `rh.changelog.${id}`, dlq: `rh.dlq.${id}` };
  await createTopic(kafka, topics.input, PARTITIONS);
  await createTopic(kafka, topics.output, PARTITIONS, { 'max.message.bytes': '16384' });
  await createTopic(kafka, topics.reply, 1, { 'max.message.bytes': '4096' });
  await createTopic(kafka, topics.changelog, PARTITIONS, { 'cleanup.policy': 'compact' });
  await createTopic(kafka, topics.dlq, 1);
  return { topics, groupId: `rh-group-${id}` };
}

async function started(app: StreamApp<Count>): Promise<StreamApp<Count>> {
  running.push(app);
  await app.start();
  await app.ready();
  return app;
}

async function produce(topic: string, key: string, values: string[], partition?: number): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key, value, ...(partition === undefined ? {} : { partition }) })) });
  await producer.disconnect();
}

const values = (records: Consumed[]) => records.map((r) => r.message.value?.toString() ?? '');
const header = (record: Consumed | undefined, name: string) => record?.message.headers?.[name]?.toString();

async function waitUntil(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('stream runtime under hostile records', () => {
  it('dead-letters a record whose output Kafka refuses as too large, with the reason, and keeps its partition moving', async () => {
    const { topics, groupId } = await setup();
    await started(hostileApp(kafka, topics, PARTITIONS, groupId, new Faults()));
    await produce(topics.input, 'k', ['a', 'big:40000', 'b']);
    expect(values(await consumeCount(kafka, topics.output, 2))).toEqual(['a:1', 'b:2']);
    const [dead] = await consumeCount(kafka, topics.dlq, 1);
    expect(header(dead, DLQ_HEADERS.code)).toBe('MESSAGE_TOO_LARGE');
    expect([header(dead, DLQ_HEADERS.topic), header(dead, DLQ_HEADERS.offset)]).toEqual([topics.input, '1']);
    expect(dead?.message.value?.toString()).toBe('big:40000');
  });

  it('dead-letters records that make it write to topics nobody may write, and keeps going', async () => {
    const { topics, groupId } = await setup();
    await started(hostileApp(kafka, topics, PARTITIONS, groupId, new Faults()));
    await produce(topics.input, 'k', ['to:__consumer_offsets', 'to:__transaction_state', 'c']);
    expect(values(await consumeCount(kafka, topics.output, 1))).toEqual(['c:1']);
    const dead = await consumeCount(kafka, topics.dlq, 2);
    expect(dead.map((d) => header(d, DLQ_HEADERS.code))).toEqual(['TOPIC_AUTHORIZATION_FAILED', 'TOPIC_AUTHORIZATION_FAILED']);
    expect(dead.map((d) => header(d, DLQ_HEADERS.offset))).toEqual(['0', '1']);
  });

  it('tells the processor of a refusal, and commits what it writes instead', async () => {
    const { topics, groupId } = await setup();
    const faults = new Faults();
    await started(hostileApp(kafka, topics, PARTITIONS, groupId, faults));
    await produce(topics.input, 'k', ['reply:10000', 'd']);
    expect(values(await consumeCount(kafka, topics.output, 2))).toEqual(['reply-refused:MESSAGE_TOO_LARGE', 'd:1']);
    expect(faults.refusalsSeen).toBe(1);
    expect(await readFor(kafka, topics.dlq, 1500)).toEqual([]);
  });

  it('retries a transient error of the processor with backoff and never dead-letters the record for it', async () => {
    const { topics, groupId } = await setup();
    const faults = new Faults();
    faults.transient.set('t', 3);
    const app = await started(hostileApp(kafka, topics, PARTITIONS, groupId, faults));
    await produce(topics.input, 't', ['transient', 'after']);
    expect(values(await consumeCount(kafka, topics.output, 2))).toEqual(['transient:1', 'after:2']);
    expect(faults.transientThrown).toBe(3);
    expect(app.stats().deadLettered).toBe(0);
    expect(await readFor(kafka, topics.dlq, 1500)).toEqual([]);
  });

  it('retries a transaction whose produce answer was lost with a fresh producer, and loses and repeats nothing', async () => {
    const { topics, groupId } = await setup();
    const app = await started(hostileApp(kafka, topics, PARTITIONS, groupId, new Faults()));
    const answer = loseOneProduceAnswer(topics.output);
    await produce(topics.input, 'one', ['v0', 'v1', 'v2']);
    await waitUntil(() => answer.lost() === 1);
    await produce(topics.input, 'one', ['v3', 'v4', 'v5']);
    const out = await consumeCount(kafka, topics.output, 6);
    expect(values(out)).toEqual(['v0:1', 'v1:2', 'v2:3', 'v3:4', 'v4:5', 'v5:6']);
    expect(values(await readFor(kafka, topics.output, 1500))).toHaveLength(6);
    expect(app.stats().retries).toBeGreaterThanOrEqual(1);
  });

  it('fires a deadline whose handler failed again later, instead of losing it until the next restore', async () => {
    const { topics, groupId } = await setup();
    const faults = new Faults();
    faults.failingTimers.set('t1', 2);
    await started(hostileApp(kafka, topics, PARTITIONS, groupId, faults, { ttlMs: 300 }));
    await produce(topics.input, 't1', ['x']);
    expect(values(await consumeCount(kafka, topics.output, 2, { timeoutMs: 20_000 }))).toEqual(['x:1', 'expired:1']);
    expect(faults.timerThrown).toBe(2);
  });

  it('keeps one deadline entry per key however often the key is written', async () => {
    const { topics, groupId } = await setup();
    const app = await started(hostileApp(kafka, topics, PARTITIONS, groupId, new Faults()));
    await produce(topics.input, 'beating', Array.from({ length: 300 }, (_, i) => `b${i}`));
    await produce(topics.input, 'other', ['o']);
    await consumeCount(kafka, topics.output, 301);
    await waitUntil(() => app.stats().records === 301);
    expect(app.stats().liveKeys).toBe(2);
    expect(app.stats().deadlineEntries).toBe(2);
  });

  it('brings a fenced partition back by itself, and its timers fire although no record arrives', async () => {
    const { topics, groupId } = await setup();
    const app = await started(hostileApp(kafka, topics, PARTITIONS, groupId, new Faults(), { ttlMs: 2_500, sessionTimeoutMs: 6_000 }));
    await produce(topics.input, 'quiet', ['x']);
    await consumeCount(kafka, topics.output, 1);
    // A zombie with the partition's transactional id: the app's next transaction is fenced.
    const zombie = kafka.producer({ transactionalId: `${groupId}-${partitionForKey('quiet', PARTITIONS)}`, idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    // kafkajs registers the transactional id (and fences its other users) with the first transaction.
    await (await zombie.transaction()).abort();
    await zombie.disconnect();
    expect(values(await consumeCount(kafka, topics.output, 2, { timeoutMs: 30_000 }))).toEqual(['x:1', 'expired:1']);
    expect(app.stats().ownedPartitions).toHaveLength(PARTITIONS);
  });

  it('retries a restore that failed, and serves', async () => {
    const { topics, groupId } = await setup();
    const consumer = kafka.consumer.bind(kafka);
    let failed = 0;
    vi.spyOn(kafka, 'consumer').mockImplementation((config: ConsumerConfig): Consumer => {
      const made = consumer(config);
      if (config.groupId.includes('-restore-') && failed === 0) {
        failed += 1;
        made.connect = () => Promise.reject(new kafkajs.KafkaJSConnectionError('Connection refused (injected)'));
      }
      return made;
    });
    await started(hostileApp(kafka, topics, PARTITIONS, groupId, new Faults()));
    expect(failed).toBe(1);
    await produce(topics.input, 'k', ['after-restore']);
    expect(values(await consumeCount(kafka, topics.output, 1))).toEqual(['after-restore:1']);
  });

  it('retries at once a restore whose consumer crashed, instead of waiting out a timeout', async () => {
    const { topics, groupId } = await setup();
    await produce(topics.input, 'k', ['before']);
    const first = await started(hostileApp(kafka, topics, PARTITIONS, groupId, new Faults()));
    await consumeCount(kafka, topics.output, 1);
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const consumer = kafka.consumer.bind(kafka);
    let crashed = 0;
    vi.spyOn(kafka, 'consumer').mockImplementation((config: ConsumerConfig): Consumer => {
      const made = consumer(config);
      if (config.groupId.includes('-restore-') && crashed === 0) {
        const run = made.run.bind(made);
        made.run = (options) =>
          run({
            ...options,
            eachBatch: async () => {
              if (crashed > 0) return;
              crashed += 1;
              throw new kafkajs.KafkaJSNonRetriableError('the restore consumer crashed (injected)');
            },
          });
      }
      return made;
    });
    const began = Date.now();
    const second = await started(hostileApp(kafka, topics, PARTITIONS, groupId, new Faults()));
    expect(crashed).toBe(1);
    expect(Date.now() - began).toBeLessThan(30_000);
    expect(second.get('k')?.count).toBe(1);
  });

  it('dead-letters a changelog record that does not decode and restores its key as absent', async () => {
    const { topics, groupId } = await setup();
    const partition = partitionForKey('bad', PARTITIONS);
    await produce(topics.changelog, 'bad', ['{this is not json'], partition);
    await produce(topics.changelog, 'good', [JSON.stringify({ count: 4, expiresAt: Date.now() + 3_600_000 })], partitionForKey('good', PARTITIONS));
    const app = await started(hostileApp(kafka, topics, PARTITIONS, groupId, new Faults()));
    expect(app.get('bad')).toBeUndefined();
    expect(app.get('good')?.count).toBe(4);
    const [dead] = await consumeCount(kafka, topics.dlq, 1);
    expect([header(dead, DLQ_HEADERS.code), header(dead, DLQ_HEADERS.topic)]).toEqual(['CHANGELOG_UNDECODABLE', topics.changelog]);
    await produce(topics.input, 'bad', ['fresh']);
    expect(values(await consumeCount(kafka, topics.output, 1))).toEqual(['fresh:1']);
  });
});

describe('the partition producer', () => {
  it('replaces its kafkajs producer after a transaction that did not commit, so the next one is not dropped as a duplicate', async () => {
    const topic = `rh.pp.${token()}`;
    await createTopic(kafka, topic, 1);
    const producer = new PartitionProducer(kafka, 0, `rh-pp-${token()}`, `rh-pp-group-${token()}`);
    const send = (value: string) => producer.commit({ records: [{ topic, partition: 0, key: 'k', value: Buffer.from(value) }], offsets: [] });
    try {
      await send('one');
      const answer = loseOneProduceAnswer(topic);
      await expect(send('two, aborted')).rejects.toThrow(/lost/);
      answer.restore();
      expect(producer.generation).toBe(2);
      await send('three');
      await send('four');
      expect(values(await consumeCount(kafka, topic, 3))).toEqual(['one', 'three', 'four']);
    } finally {
      await producer.disconnect();
    }
  });

  it('connects again after a connect that failed while Kafka was away, instead of failing with the old error forever', async () => {
    const topic = `rh.pp.${token()}`;
    await createTopic(kafka, topic, 1);
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(loadConfig().kafkaBrokers[0]?.split(':')[1]) });
    await proxy.start();
    // Bootstrapping through the proxy: while it refuses, the producer cannot connect at all.
    const impatient = new kafkajs.Kafka({ brokers: [proxy.address], clientId: `rh-${token()}`, retry: { retries: 1, initialRetryTime: 100 }, connectionTimeout: 1_000, logLevel: kafkajs.logLevel.NOTHING });
    const producer = new PartitionProducer(impatient, 0, `rh-pp-${token()}`, `rh-pp-group-${token()}`);
    try {
      proxy.refuse(3_000);
      await expect(producer.commit({ records: [{ topic, partition: 0, key: 'k', value: Buffer.from('while away') }], offsets: [] })).rejects.toThrow();
      while (proxy.refusing) await new Promise((resolve) => setTimeout(resolve, 100));
      await producer.commit({ records: [{ topic, partition: 0, key: 'k', value: Buffer.from('back') }], offsets: [] });
      expect(values(await consumeCount(kafka, topic, 1))).toEqual(['back']);
    } finally {
      await producer.disconnect();
      await proxy.close();
    }
  });
});


// kafkajs gives up on a consumer after some crashes (a group coordinator not found once
// its retries ran out, found by the chaos suite in the relay) and leaves the process
// running with nothing consuming. The relay and the worker's channel must say so, so
// their role exits and is restarted; the consumers a role can simply start again (the
// message channel's, a worker's agent replies) renew themselves instead. On the real
// broker; the crash is injected into the consumer's handler, as kafkajs would meet it.
import kafkajs, { type Consumer, type ConsumerConfig, type ConsumerRunConfig } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { encode, taskDispatchSchema } from '../../../schemas/index.js';
import { KafkaAgentJobClient, KafkaAgentJobServer } from '../../../channels/kafka-agent-channel.js';
import { KafkaWorkChannel } from '../../../channels/kafka-channel.js';
import { KafkaMessageChannel } from '../../../channels/kafka-message-channel.js';
import { RedisRelay } from '../../../channels/redis-relay.js';
import { ensureTopics } from '../../../topics/admin.js';
import { catalogueFor } from '../../../topics/catalogue.js';
import { topicNames } from '../../../topics/names.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { PrivateRedis } from '../../support/redis-server.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('consumer-stopped'), STACKL_PARTITIONS: '2' });
const topics = topicNames(config.topicPrefix);
const redis = new PrivateRedis();
const stoppers: (() => Promise<void>)[] = [];

afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  for (const stop of stoppers) await stop().catch(() => {});
  await redis.stop();
});

/** A Kafka client whose consumers crash in their first batch with an error kafkajs does not restart from. */
function crashingKafka(): ReturnType<typeof testKafka> {
  const kafka = testKafka();
  const consumer = kafka.consumer.bind(kafka);
  vi.spyOn(kafka, 'consumer').mockImplementation((settings: ConsumerConfig): Consumer => {
    const made = consumer(settings);
    const run = made.run.bind(made);
    made.run = (options?: ConsumerRunConfig) =>
      run({
        ...options,
        eachBatch: async () => {
          throw new kafkajs.KafkaJSNonRetriableError('Failed to find group coordinator (injected)');
        },
      });
    return made;
  });
  return kafka;
}

/** A Kafka client where the first consumer of each group crashes, for good, on its first message or batch; later ones run normally. */
function firstConsumerCrashesKafka(crashWith: () => Error = () => new kafkajs.KafkaJSNonRetriableError('Failed to find group coordinator (injected)')): ReturnType<typeof testKafka> {
  const kafka = testKafka();
  const consumer = kafka.consumer.bind(kafka);
  const crashedGroups = new Set<string>();
  vi.spyOn(kafka, 'consumer').mockImplementation((settings: ConsumerConfig): Consumer => {
    const made = consumer(settings);
    if (crashedGroups.has(settings.groupId)) return made;
    crashedGroups.add(settings.groupId);
    const run = made.run.bind(made);
    const crash = async (): Promise<never> => {
      throw crashWith();
    };
    made.run = (options?: ConsumerRunConfig) => run(options?.eachMessage === undefined ? { ...options, eachBatch: crash } : { ...options, eachMessage: crash });
    return made;
  });
  return kafka;
}

/** Creates the topics of this file's prefix (each test may run alone). */
async function ensureTestTopics(): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await ensureTopics(admin, catalogueFor(config));
  } finally {
    await admin.disconnect();
  }
}

async function sendOrder(): Promise<void> {
  const taskId = '01971f00-0000-7000-8000-00000000c0de';
  const producer = testKafka().producer();
  await producer.connect();
  const value = encode(taskDispatchSchema, {
    eventId: '6e1f0d7c-2f4b-4b7a-9d55-3a1c2b0e9f10', taskId, sequence: 2, time: Date.now(), causationId: null, correlationId: null,
    type: 'RunRollback',
    body: { task: { id: taskId, kind: 'probe', action: 'run', payload: '{"outcome":"fail"}', origin: { type: 'none', target: null }, idempotencyKey: taskId, timeoutMs: 1000, attemptTimeoutMs: null, heartbeatTimeoutMs: null, maxAttempts: 1, retryBackoff: { initialMs: 1, multiplier: 1, maxMs: 1 }, rollbackMaxAttempts: 1, rollbackBackoff: { initialMs: 1, multiplier: 1, maxMs: 1 }, submittedAt: Date.now() }, failedAttempt: 1, rollbackAttempt: 1, deadlineAt: Date.now() + 60_000 },
  });
  await producer.send({ topic: topics.dispatch, messages: [{ key: taskId, value, partition: partitionForKey(taskId, config.partitions) }] });
  await producer.disconnect();
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('not told in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a consumer kafkajs stopped for good', () => {
  it('is reported by the relay and by the worker channel, so their roles can exit', async () => {
    await ensureTestTopics();
    await redis.start();
    await sendOrder();

    const relayStopped: unknown[] = [];
    const relay = new RedisRelay({ kafka: crashingKafka(), redisUrl: redis.url, prefix: config.topicPrefix, topics, groupId: `${config.topicPrefix}relay`, partitions: config.partitions, onFatal: (error) => relayStopped.push(error) });
    stoppers.push(() => relay.stop());
    await relay.start();
    await waitFor(() => relayStopped.length > 0);
    expect(String(relayStopped[0])).toMatch(/Failed to find group coordinator/);

    const channelStopped: unknown[] = [];
    const channel = new KafkaWorkChannel({ kafka: crashingKafka(), dispatchTopic: topics.dispatch, rollbacksTopic: topics.rollbacks, resultsTopic: topics.results, dlqTopic: topics.dlq, groupId: `${config.topicPrefix}workers`, partitions: config.partitions, onFatal: (error) => channelStopped.push(error) });
    stoppers.push(() => channel.close());
    await channel.consume(async () => {}, 2);
    await waitFor(() => channelStopped.length > 0);
    expect(String(channelStopped[0])).toMatch(/Failed to find group coordinator/);
  });
});

describe('a message channel consumer kafkajs stopped for good', () => {
  it('is replaced by a new one of its group: the store and a subscription keep working', async () => {
    const channel = new KafkaMessageChannel({ kafka: firstConsumerCrashesKafka(), prefix: config.topicPrefix, storePartitions: config.partitions });
    stoppers.push(() => channel.close());

    // The store's first consumer dies on the put's own record; the put returns once a new one read it back.
    await channel.put('renewed', { value: 1 }, 60_000);
    expect(await channel.get('renewed')).toEqual({ value: 1 });

    // The subscription's first consumer dies before the marker that makes it live; a new one takes over.
    const received: unknown[] = [];
    const subscription = await channel.subscribe('renewals', async (value) => {
      received.push(value);
    });
    await channel.publish('renewals', { n: 1 });
    await channel.publish('renewals', { n: 2 });
    await waitFor(() => received.length >= 2);
    expect(received).toEqual([{ n: 1 }, { n: 2 }]);
    await subscription.unsubscribe();
  });
});

describe("a worker's agent replies consumer kafkajs stopped for good", () => {
  it('is replaced by a new one, and a job still gets its answer: the worker does not exit and lose what it runs', async () => {
    await ensureTestTopics();
    const agentKafka = testKafka();
    const server = new KafkaAgentJobServer({ kafka: agentKafka, jobsTopic: topics.agentJobs, repliesTopic: topics.agentReplies, dlqTopic: topics.dlq, groupId: `${config.topicPrefix}agent-renewal`, partitions: config.partitions });
    stoppers.push(() => server.close());
    void server.serve(() => true, async (job) => ({ jobId: job.jobId, taskId: job.taskId, agent: 'test-agent', target: job.target, status: 'applied', message: 'done' }), 4);

    const workerKafka = firstConsumerCrashesKafka();
    const client = new KafkaAgentJobClient({ kafka: workerKafka, jobsTopic: topics.agentJobs, repliesTopic: topics.agentReplies, replyTo: 'worker-renewal', groupPrefix: config.topicPrefix });
    stoppers.push(() => client.close());
    const job = { taskId: '01971f00-0000-7000-8000-00000000a9e7', attempt: 1, compensation: false, op: 'apply' as const, target: 'node-1', resource: 'stack/s1', spec: null, deadlineAt: Date.now() + 60_000 };
    const reply = await client.request(job, new AbortController().signal);
    expect(reply).toMatchObject({ taskId: job.taskId, status: 'applied', message: 'done' });
    // The first consumer of the replies group crashed on its first record; a second one read the answer.
    const repliesConsumers = vi.mocked(workerKafka.consumer).mock.calls.filter(([settings]) => settings.groupId.includes('agent-replies-worker-renewal'));
    expect(repliesConsumers.length).toBeGreaterThanOrEqual(2);
  });
});

describe("a worker channel's consumer that lost its group coordinator", () => {
  it('joins the group again with a new consumer and delivers the orders: the worker does not exit', async () => {
    await ensureTestTopics();
    await sendOrder();
    // kafkajs' own error (its typings omit the message its constructor needs).
    const CoordinatorNotFound = kafkajs.KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error;
    const kafka = firstConsumerCrashesKafka(() => new CoordinatorNotFound('Failed to find group coordinator (injected)'));
    const stopped: unknown[] = [];
    const delivered: string[] = [];
    const groupId = `${config.topicPrefix}rejoining-workers`;
    const channel = new KafkaWorkChannel({ kafka, dispatchTopic: topics.dispatch, rollbacksTopic: topics.rollbacks, resultsTopic: topics.results, dlqTopic: topics.dlq, groupId, partitions: config.partitions, onFatal: (error) => stopped.push(error) });
    stoppers.push(() => channel.close());
    await channel.consume(async ({ order }) => {
      delivered.push(order.taskId);
    }, 2);
    await waitFor(() => delivered.length > 0);
    expect(delivered[0]).toBe('01971f00-0000-7000-8000-00000000c0de');
    expect(stopped).toEqual([]);
    // The run orders' group had a consumer that crashed on the order, and a second one that delivered it.
    const runConsumers = vi.mocked(kafka.consumer).mock.calls.filter(([settings]) => settings.groupId === groupId);
    expect(runConsumers.length).toBeGreaterThanOrEqual(2);
  });
});

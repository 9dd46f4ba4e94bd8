// What one fetch brings a partition from several input topics commits in one transaction
// (commit-combiner.ts), with each topic's offset, and a refusal among them still finds
// the record at fault alone. Hostile records and lost answers reach such combined
// transactions too: records are written to both topics before the app starts, so its
// first fetch brings both. On the real broker.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StreamApp } from '../../../processors/runtime/stream-app.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { consumeCount, createTopic, readFor, testKafka } from '../../support/kafka.js';
import { token } from '../../support/names.js';
import type { Count } from './counter-app.js';
import { Faults, hostileApp, type HostileTopics } from './hostile-app.js';
import { loseOneCommitAnswer, loseOneProduceAnswer } from './lost-answers.js';

const kafka = testKafka();
const PARTITIONS = 2;
const running: StreamApp<Count>[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(running.splice(0).map((app) => app.stop()));
});

interface TwoInputs {
  topics: HostileTopics;
  second: string;
  groupId: string;
}

async function setup(): Promise<TwoInputs> {
  const id = token();
  const topics = { input: `rc.in.${id}`, output: `rc.out.${id}`, reply: `rc.reply.${id}`, changelog: `rc.changelog.${id}`, dlq: `rc.dlq.${id}` };
  const second = `rc.in2.${id}`;
  for (const topic of [topics.input, second]) await createTopic(kafka, topic, PARTITIONS);
  await createTopic(kafka, topics.output, PARTITIONS, { 'max.message.bytes': '16384' });
  await createTopic(kafka, topics.reply, 1, { 'max.message.bytes': '4096' });
  await createTopic(kafka, topics.changelog, PARTITIONS, { 'cleanup.policy': 'compact' });
  await createTopic(kafka, topics.dlq, 1);
  return { topics, second, groupId: `rc-group-${id}` };
}

/** Writes `values` for `key` to each topic, all on partition 0, before any app reads them. */
async function produceTo(topics: string[], key: string, values: string[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (const topic of topics) await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key, value, partition: 0 })) });
  await producer.disconnect();
}

async function startTwoInputApp({ topics, second, groupId }: TwoInputs): Promise<StreamApp<Count>> {
  // Keys are checked against the partitioner, so the records go where their key belongs.
  const app = hostileApp(kafka, topics, PARTITIONS, groupId, new Faults(), { inputTopics: [topics.input, second] });
  running.push(app);
  await app.start();
  await app.ready();
  return app;
}

async function committed(groupId: string, topics: string[]): Promise<Record<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await admin.fetchOffsets({ groupId, topics });
    return Object.fromEntries(result.map(({ topic, partitions }) => [topic, partitions.find((p) => p.partition === 0)?.offset ?? '']));
  } finally {
    await admin.disconnect();
  }
}

/** The count each output carries ("v:3" → 3), sorted. */
function countsOf(out: { message: { value: Buffer | null } }[]): number[] {
  return out.map((r) => Number(r.message.value?.toString().split(':').at(-1))).sort((x, y) => x - y);
}

/** A key of partition 0 (murmur2 over PARTITIONS), found by trying. */
function keyOfPartitionZero(): string {
  for (let i = 0; ; i++) if (partitionForKey(`key-${i}`, PARTITIONS) === 0) return `key-${i}`;
}

describe('batches of several input topics of one partition', () => {
  it('commit in one transaction, with both offsets, every record once and in one state', async () => {
    const setupDone = await setup();
    const key = keyOfPartitionZero();
    await produceTo([setupDone.topics.input, setupDone.second], key, ['a', 'b', 'c', 'd', 'e']);
    const app = await startTwoInputApp(setupDone);
    const out = await consumeCount(kafka, setupDone.topics.output, 10);
    // One state for the key across both topics: the counts run 1..10, each once.
    expect(countsOf(out)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const stats = app.stats();
    expect(stats.records).toBe(10);
    // The first fetch after the restore brought both topics' batches: one transaction, not two.
    expect(stats.transactions).toBe(1);
    expect(await committed(setupDone.groupId, [setupDone.topics.input, setupDone.second])).toEqual({ [setupDone.topics.input]: '5', [setupDone.second]: '5' });
  });

  it('when Kafka refuses what one of them writes, dead-letter that record alone and commit the rest once', async () => {
    const setupDone = await setup();
    const key = keyOfPartitionZero();
    await produceTo([setupDone.topics.input], key, ['a', 'big:40000', 'b']);
    await produceTo([setupDone.second], key, ['c', 'd']);
    const app = await startTwoInputApp(setupDone);
    const [dead] = await consumeCount(kafka, setupDone.topics.dlq, 1);
    expect(dead?.message.headers?.[DLQ_HEADERS.code]?.toString()).toBe('MESSAGE_TOO_LARGE');
    const out = await consumeCount(kafka, setupDone.topics.output, 4);
    expect(countsOf(out)).toEqual([1, 2, 3, 4]);
    expect(app.stats().deadLettered).toBe(1);
    expect(await committed(setupDone.groupId, [setupDone.topics.input, setupDone.second])).toEqual({ [setupDone.topics.input]: '3', [setupDone.second]: '2' });
  });

  it('dead-letter records naming internal topics, in either topic, and commit the rest once', async () => {
    const setupDone = await setup();
    const key = keyOfPartitionZero();
    await produceTo([setupDone.topics.input], key, ['to:__transaction_state', 'a']);
    await produceTo([setupDone.second], key, ['to:__consumer_offsets', 'b']);
    await startTwoInputApp(setupDone);
    const dead = await consumeCount(kafka, setupDone.topics.dlq, 2);
    expect(dead.map((d) => d.message.headers?.[DLQ_HEADERS.code]?.toString())).toEqual(['TOPIC_AUTHORIZATION_FAILED', 'TOPIC_AUTHORIZATION_FAILED']);
    expect(countsOf(await consumeCount(kafka, setupDone.topics.output, 2))).toEqual([1, 2]);
    expect(await committed(setupDone.groupId, [setupDone.topics.input, setupDone.second])).toEqual({ [setupDone.topics.input]: '2', [setupDone.second]: '2' });
  });

  it('commit an output just under the topic\'s size limit and dead-letter one just over it', async () => {
    const setupDone = await setup();
    const key = keyOfPartitionZero();
    // The output topic takes batches of at most 16,384 bytes.
    await produceTo([setupDone.topics.input], key, ['big:16000', 'a']);
    await produceTo([setupDone.second], key, ['big:16385', 'b']);
    const app = await startTwoInputApp(setupDone);
    const [dead] = await consumeCount(kafka, setupDone.topics.dlq, 1);
    expect(dead?.message.headers?.[DLQ_HEADERS.code]?.toString()).toBe('MESSAGE_TOO_LARGE');
    expect(dead?.message.headers?.[DLQ_HEADERS.topic]?.toString()).toBe(setupDone.second);
    const out = await consumeCount(kafka, setupDone.topics.output, 3);
    expect(out.map((r) => r.message.value?.length ?? 0).sort((x, y) => y - x)[0]).toBe(16_000);
    expect(app.stats().deadLettered).toBe(1);
    expect(await committed(setupDone.groupId, [setupDone.topics.input, setupDone.second])).toEqual({ [setupDone.topics.input]: '2', [setupDone.second]: '2' });
  });

  it('lose and repeat nothing when the answer to a produce request is lost', async () => {
    const setupDone = await setup();
    const key = keyOfPartitionZero();
    await produceTo([setupDone.topics.input, setupDone.second], key, ['a', 'b', 'c']);
    const answer = loseOneProduceAnswer(setupDone.topics.output);
    const app = await startTwoInputApp(setupDone);
    expect(countsOf(await consumeCount(kafka, setupDone.topics.output, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(answer.lost()).toBe(1);
    expect(await readFor(kafka, setupDone.topics.output, 1500)).toHaveLength(6);
    expect(app.stats().retries).toBeGreaterThanOrEqual(1);
  });

  it('rebuild from the log and write nothing twice when a commit reached the broker but its answer was lost', async () => {
    const setupDone = await setup();
    const key = keyOfPartitionZero();
    await produceTo([setupDone.topics.input, setupDone.second], key, ['a', 'b', 'c']);
    const answer = loseOneCommitAnswer(setupDone.topics.output);
    await startTwoInputApp(setupDone);
    expect(countsOf(await consumeCount(kafka, setupDone.topics.output, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(answer.lost()).toBe(1);
    expect(await readFor(kafka, setupDone.topics.output, 1500)).toHaveLength(6);
    expect(await committed(setupDone.groupId, [setupDone.topics.input, setupDone.second])).toEqual({ [setupDone.topics.input]: '3', [setupDone.second]: '3' });
  });
});

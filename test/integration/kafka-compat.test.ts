// The Kafka compatibility smoke test: the broker features STACKL depends on, through
// kafkajs 2.2.4, against whatever broker KAFKA_BROKERS names. `npm run compat` runs
// this file against each Kafka release we evaluate; the README records the results.
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { token } from '../support/names.js';
import { consumeCount, createTopic, testKafka } from '../support/kafka.js';

const { ConfigResourceTypes } = kafkajs;
const kafka = testKafka();
const admin = kafka.admin();

beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

describe('Kafka compatibility', () => {
  it('produces keyed records and consumes them in a consumer group that commits offsets', async () => {
    const topic = `compat.produce.${token()}`;
    const groupId = `compat-group-${token()}`;
    await createTopic(kafka, topic, 3);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const messages = Array.from({ length: 60 }, (_, i) => ({ key: `task-${i % 7}`, value: `v${i}` }));
    await producer.send({ topic, messages });
    await producer.disconnect();

    const received = await consumeCount(kafka, topic, 60, { groupId });
    expect(received.map((r) => r.message.value?.toString()).sort()).toEqual(messages.map((m) => m.value).sort());
    // The same key always lands on the same partition (what co-partitioning relies on).
    const partitionsByKey = new Map<string, Set<number>>();
    for (const r of received) {
      const key = r.message.key?.toString() ?? '';
      partitionsByKey.set(key, (partitionsByKey.get(key) ?? new Set()).add(r.partition));
    }
    for (const partitions of partitionsByKey.values()) expect(partitions.size).toBe(1);

    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = committed[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(total).toBe(60);
  });

  it('creates topics with configs and reports them back', async () => {
    const topic = `compat.configs.${token()}`;
    await createTopic(kafka, topic, 2, { 'cleanup.policy': 'compact', 'retention.ms': '3600000', 'segment.bytes': '1048576' });
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'retention.ms', 'segment.bytes'] }],
    });
    const values = Object.fromEntries(described.resources[0]?.configEntries.map((e) => [e.configName, e.configValue]) ?? []);
    expect(values).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '3600000', 'segment.bytes': '1048576' });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(2);
  });

  it('commits a consume-transform-produce transaction with sendOffsets', async () => {
    const input = `compat.tx-in.${token()}`;
    const output = `compat.tx-out.${token()}`;
    const groupId = `compat-tx-${token()}`;
    await createTopic(kafka, input);
    await createTopic(kafka, output);
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: input, messages: Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `in-${i}` })) });
    await plain.disconnect();

    const consumed = await consumeCount(kafka, input, 10, { groupId: `reader-${token()}` });
    const producer = kafka.producer({ transactionalId: `compat-tx-${token()}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.send({ topic: output, messages: consumed.map((c) => ({ key: 'k', value: `out-${c.message.value?.toString()}` })) });
    const lastOffset = Number(consumed[consumed.length - 1]?.message.offset);
    await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: String(lastOffset + 1) }] }] });
    await transaction.commit();
    await producer.disconnect();

    const out = await consumeCount(kafka, output, 10);
    expect(out.map((o) => o.message.value?.toString())).toEqual(consumed.map((c) => `out-${c.message.value?.toString()}`));
    // EndTxn is answered before the coordinator writes the commit markers, so the group's
    // committed offset becomes visible a moment after commit() returns, not with it.
    await expect
      .poll(async () => (await admin.fetchOffsets({ groupId, topics: [input] }))[0]?.partitions[0]?.offset, { timeout: 15_000 })
      .toBe('10');
  });

  it('hides aborted transactions from read-committed consumers only', async () => {
    const topic = `compat.read-committed.${token()}`;
    await createTopic(kafka, topic);
    const producer = kafka.producer({ transactionalId: `compat-rc-${token()}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'committed-1' }] });
    await committed.commit();
    await producer.disconnect();

    const readCommitted = await consumeCount(kafka, topic, 1);
    expect(readCommitted.map((r) => r.message.value?.toString())).toEqual(['committed-1']);
    const readUncommitted = await consumeCount(kafka, topic, 3, { readUncommitted: true });
    expect(readUncommitted.map((r) => r.message.value?.toString())).toEqual(['aborted-1', 'aborted-2', 'committed-1']);
  });
});

// Kafka's log cleaner keeps a producer's last batch as an empty header (count 0) when
// all its records were superseded; when that header ends a segment, a fetch there
// returns it alone and kafkajs 2.2.4 never moved past it (a lifecycle partition stopped
// serving in a long chaos run). This builds that log on the real broker: another
// producer's large records fill the start of a segment, producer A's one-record
// transaction ends it (its commit marker rolls into the next segment), producer B then
// overwrites A's key, and the cleaner empties A's batch. Both a plain consumer and the
// changelog restore must read past it to the end.
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barrierKey, newBarrierId, restorePartitions } from '../../../processors/runtime/changelog-restore.js';
import { emptyBatchesPassed } from '../../../topics/kafkajs-empty-batches.js';
import { createTopic, testKafka } from '../../support/kafka.js';
import { token } from '../../support/names.js';

const TOPIC_CONFIG = {
  'cleanup.policy': 'compact',
  // Segments roll after a second (and at the smallest size Kafka allows), so the cleaner has
  // closed segments to clean; it looks for work every 15 s by default.
  'segment.ms': '1000',
  'segment.bytes': String(1024 * 1024),
  'min.cleanable.dirty.ratio': '0.001',
  'min.compaction.lag.ms': '0',
  'delete.retention.ms': '0',
};
const CLEANED_WITHIN_MS = 120_000;
const READ_WITHIN_MS = 15_000;

const identity = { encode: (value: Buffer) => value, decode: (bytes: Buffer) => bytes };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('empty record batches left by the log cleaner', () => {
  const topic = `test.empty-batches.${token()}`;
  let kafka: Kafka;
  let producerA: Producer;
  let producerB: Producer;

  beforeAll(async () => {
    kafka = testKafka();
    await createTopic(kafka, topic, 1, TOPIC_CONFIG);
    producerA = await transactional(kafka, `${topic}.a`);
    producerB = await transactional(kafka, `${topic}.b`);
  });

  afterAll(async () => {
    await Promise.all([producerA?.disconnect(), producerB?.disconnect()]);
  });

  it('are read past by consumers and by the changelog restore', async () => {
    await inTransaction(producerB, [
      { key: 'u1', value: Buffer.alloc(500_000, 1) },
      { key: 'u2', value: Buffer.alloc(540_000, 2) },
    ]);
    const a = await producerA.transaction();
    await a.send({ topic, messages: [{ key: 'k1', value: 'from A' }] });
    // Older than segment.ms when the marker comes: the marker opens the next segment.
    await sleep(1_500);
    await a.commit();
    await inTransaction(producerB, [
      { key: 'k1', value: 'from B' },
      { key: 'u3', value: Buffer.alloc(20_000, 3) },
    ]);

    // Each round writes a probe (rolling segments, so the cleaner has work) and reads the
    // partition from the start up to it. A read that meets the empty batch and gets stuck
    // there fails the test with the offset where it stopped.
    const started = Date.now();
    let values: Map<string, Buffer | null> | undefined;
    for (let round = 0; Date.now() - started < CLEANED_WITHIN_MS; round += 1) {
      const passedBefore = emptyBatchesPassed();
      const probe = await inTransaction(producerB, [{ key: 'probe', value: String(round) }]);
      const read = await readUpTo(kafka, topic, probe);
      if (emptyBatchesPassed() > passedBefore) {
        values = read;
        break;
      }
      await sleep(1_000);
    }
    expect(values, `the cleaner left no empty batch within ${CLEANED_WITHIN_MS} ms`).toBeDefined();
    expect(values?.get('k1')?.toString()).toBe('from B');
    expect(values?.get('u1')?.length).toBe(500_000);
    expect(values?.get('u3')?.length).toBe(20_000);

    const barrierId = newBarrierId();
    await inTransaction(producerB, [{ key: barrierKey(0), value: barrierId }]);
    const restored = await restorePartitions({
      kafka,
      topic,
      groupId: `test.restore.${token()}`,
      serde: identity,
      requests: [{ partition: 0, barrierId }],
      stallMs: READ_WITHIN_MS,
    });
    const table = restored.tables.get(0);
    expect(table?.get('k1')?.toString()).toBe('from B');
    expect(table?.get('u2')?.length).toBe(540_000);
    expect(restored.corrupt).toEqual([]);
  }, CLEANED_WITHIN_MS + 60_000);

  async function inTransaction(producer: Producer, messages: { key: string; value: Buffer | string }[]): Promise<bigint> {
    const transaction = await producer.transaction();
    const [sent] = await transaction.send({ topic, messages });
    await transaction.commit();
    return BigInt(sent?.baseOffset ?? '-1') + BigInt(messages.length - 1);
  }
});

async function transactional(kafka: Kafka, transactionalId: string): Promise<Producer> {
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}

/** The latest value of every key up to and including `last`; rejects, naming the offset reached, if that takes too long. */
async function readUpTo(kafka: Kafka, topic: string, last: bigint): Promise<Map<string, Buffer | null>> {
  const consumer = kafka.consumer({ groupId: `test.empty-batches.${token()}`, maxWaitTimeInMs: 100 });
  const values = new Map<string, Buffer | null>();
  let reached = -1n;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${topic} up to offset ${reached} of ${last} within ${READ_WITHIN_MS} ms`)), READ_WITHIN_MS);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.set(message.key?.toString() ?? '', message.value);
            reached = BigInt(message.offset);
            if (reached >= last) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return values;
  } finally {
    await consumer.disconnect();
  }
}

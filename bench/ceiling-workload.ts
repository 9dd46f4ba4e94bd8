// kafkajs alone, doing the Kafka work STACKL does for N tasks and nothing else: the
// same records per task on each topic (observed, see record-count.ts), of the same
// average size, keyed by task-id-like UUIDs, written by the same three writers (the
// submitting client, the processor, the worker) in chunks of the submit size, acks=all
// and idempotent like STACKL's producers, and read by the same three consumer groups
// while they are written. No decoding, no state, no transactions, no PostgreSQL: a
// ceiling, the most a STACKL pipeline on this broker and client could hope for.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Consumer, Kafka, Producer, TopicMessages } from 'kafkajs';
import { ensureTopics } from '../topics/admin.js';
import type { TopicSpec } from '../topics/catalogue.js';
import { progress, waitUntil } from './stats.js';

export interface TopicLoad {
  /** Topic name in the ceiling's own namespace (prefix added by the caller). */
  topic: string;
  records: number;
  /** Average key + value bytes. */
  bytes: number;
  writer: string;
  /** Consumer group reading it during the burst, if any. */
  reader?: string;
  compacted: boolean;
}

export interface CeilingResult {
  written: number;
  read: number;
  elapsedMs: number;
  writtenPerSecond: number;
  readPerSecond: number;
  recordsPerSecond: number;
  produceRequests: number;
}

const KEY_BYTES = 36; // a task id as text, what STACKL keys every record with

export async function runCeiling(kafka: Kafka, prefix: string, partitions: number, loads: TopicLoad[], chunks: number): Promise<CeilingResult> {
  const admin = kafka.admin();
  await admin.connect();
  const specs: TopicSpec[] = loads.map((l) => {
    const policy = l.compacted ? 'compact' : 'delete';
    return { name: l.topic, partitions, cleanupPolicy: policy, coPartitioned: false, configs: { 'cleanup.policy': policy } };
  });
  await ensureTopics(admin, specs);
  const producers: Producer[] = [];
  const consumers: Consumer[] = [];
  try {
    let read = 0;
    const readers = group(loads.filter((l) => l.reader !== undefined), (l) => l.reader as string);
    for (const [reader, topics] of readers) {
      const consumer = kafka.consumer({ groupId: `${prefix}ceiling-${reader}`, maxWaitTimeInMs: 50 });
      consumers.push(consumer);
      const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
      await consumer.connect();
      await consumer.subscribe({ topics: topics.map((t) => t.topic), fromBeginning: true });
      await consumer.run({
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch }) => {
          read += batch.messages.length;
        },
      });
      await joined;
    }
    const toRead = loads.reduce((sum, l) => sum + (l.reader === undefined ? 0 : l.records), 0);
    const toWrite = loads.reduce((sum, l) => sum + l.records, 0);

    let requests = 0;
    const began = Date.now();
    await Promise.all(
      [...group(loads, (l) => l.writer)].map(async ([, topics]) => {
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        producers.push(producer);
        await producer.connect();
        const values = new Map(topics.map((t) => [t.topic, randomBytes(Math.max(1, Math.round(t.bytes) - KEY_BYTES))]));
        for (let c = 0; c < chunks; c++) {
          const topicMessages: TopicMessages[] = topics.map((t) => ({
            topic: t.topic,
            messages: Array.from({ length: share(t.records, chunks, c) }, () => ({ key: randomUUID(), value: values.get(t.topic) as Buffer })),
          }));
          await producer.sendBatch({ topicMessages: topicMessages.filter((m) => m.messages.length > 0), acks: -1 });
          requests += 1;
        }
      }),
    );
    progress(`ceiling: wrote ${toWrite} records in ${Date.now() - began} ms`);
    await waitUntil(() => read >= toRead, 600_000, 'the ceiling consumers to read everything');
    const elapsedMs = Date.now() - began;
    const perSecond = (n: number): number => Math.round((n / elapsedMs) * 1000);
    return { written: toWrite, read, elapsedMs, writtenPerSecond: perSecond(toWrite), readPerSecond: perSecond(read), recordsPerSecond: perSecond(toWrite + read), produceRequests: requests };
  } finally {
    for (const c of consumers) await c.disconnect().catch(() => {});
    for (const p of producers) await p.disconnect().catch(() => {});
    await admin.deleteTopics({ topics: specs.map((s) => s.name) }).catch(() => {});
    await admin.deleteGroups([...new Set(loads.flatMap((l) => (l.reader === undefined ? [] : [`${prefix}ceiling-${l.reader}`])))]).catch(() => {});
    await admin.disconnect();
  }
}

/** Chunk c's part of `total` records spread over `chunks` chunks (fractions carried, nothing lost). */
function share(total: number, chunks: number, c: number): number {
  return Math.floor(((c + 1) * total) / chunks) - Math.floor((c * total) / chunks);
}

function group<T>(items: T[], by: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(by(item), [...(groups.get(by(item)) ?? []), item]);
  return groups;
}

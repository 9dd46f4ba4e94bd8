// Reads the dead-letter topic from its beginning to the end it had when the read
// started, every partition, through a throwaway consumer group (kafkajs consumes only
// through one). What `stackl dlq` lists, shows and redrives.
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { StacklError } from '../../core/errors.js';
import { topicOffsets } from '../../topics/topic-offsets.js';

export interface DeadRecord {
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export async function readDeadLetters(kafka: Kafka, topic: string, timeoutMs: number): Promise<DeadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `stackl-dlq-${randomUUID()}`;
  try {
    const ends = new Map((await topicOffsets(admin, topic)).filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    if (ends.size === 0) return [];
    const found: DeadRecord[] = [];
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new StacklError('DLQ_READ_TIMEOUT', `did not read ${topic} to its end in ${timeoutMs} ms`, { retriable: true })), timeoutMs);
        const reached = new Set<number>();
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const end = ends.get(payload.partition);
          if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) reached.add(payload.partition);
          if (reached.size === ends.size) {
            clearTimeout(timer);
            resolve();
          }
        });
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = ends.get(batch.partition) ?? 0n;
              for (const m of batch.messages) {
                if (BigInt(m.offset) >= end) continue;
                found.push({ partition: batch.partition, offset: m.offset, timestamp: new Date(Number(m.timestamp)).toISOString(), key: m.key, value: m.value, headers: m.headers ?? {} });
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return found.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  } finally {
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
}

export function headerText(headers: IHeaders, name: string): string | null {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? null : first.toString();
}

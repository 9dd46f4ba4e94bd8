// Reads the dead-letter topic from its beginning to the end it had when the read
// started, every partition: what `stackl dlq` lists, shows and redrives.
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { topicOffsets } from '../../topics/topic-offsets.js';
import { readToEnd } from './read-to-end.js';

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
    await readToEnd({
      kafka,
      topic,
      groupId,
      ends,
      timeoutMs,
      timeoutCode: 'DLQ_READ_TIMEOUT',
      onMessage: (partition, m) => void found.push({ partition, offset: m.offset, timestamp: new Date(Number(m.timestamp)).toISOString(), key: m.key, value: m.value, headers: m.headers ?? {} }),
    });
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

// What the dead-letter tests look at: how many records the dead-letter topic holds (its
// producer is idempotent, not transactional, so the end offsets count records exactly),
// the rows a schema recorded, and a poll that says what it waited for when it gives up.
import type { Admin } from 'kafkajs';
import { consumeCount } from '../../support/kafka.js';
import type { Kafka } from 'kafkajs';
import type { ProjectionDb } from './db.js';
import { topicOffsets } from '../../../topics/topic-offsets.js';

export async function recordsIn(admin: Admin, topic: string): Promise<number> {
  const offsets = await topicOffsets(admin, topic);
  return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
}

/** The dead-letter topic's records as text headers and value bytes. */
export async function deadLetters(kafka: Kafka, topic: string, count: number): Promise<{ headers: Record<string, string | undefined>; value: Buffer | null }[]> {
  const consumed = await consumeCount(kafka, topic, count);
  return consumed.map(({ message }) => ({
    headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString()])),
    value: message.value,
  }));
}

export interface RecordedDeadLetter {
  partition: number;
  offset: number;
  publish: boolean;
  published: boolean;
  error_code: string;
}

export function recorded(db: ProjectionDb): Promise<RecordedDeadLetter[]> {
  return db.query<RecordedDeadLetter & Record<string, unknown>>(
    `select partition, "offset"::int as "offset", publish, published_at is not null as published, error_code
     from $schema.projection_dead_letters order by partition, "offset"`,
  );
}

export async function until(condition: () => Promise<boolean>, timeoutMs: number, what: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

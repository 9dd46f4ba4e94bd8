// GET /dead-letters: the newest records of the dead-letter topic, each with every header
// as text (the stackl.dlq.* headers say where it came from and why) and its value as
// text when it is text, else base64 (a record that did not decode is often not text).
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { z } from 'zod';
import { headerText, readDeadLetters } from './cli/dlq-read.js';

export const deadLetterSchema = z.object({
  partition: z.number(),
  offset: z.string(),
  timestamp: z.string(),
  key: z.string().nullable(),
  headers: z.record(z.string(), z.string().nullable()),
  value: z.object({ text: z.string() }).or(z.object({ base64: z.string() })).nullable(),
  valueBytes: z.number(),
});
export type DeadLetterBody = z.infer<typeof deadLetterSchema>;

/** The newest `limit` records, newest first. */
export type DeadLetterReader = (limit: number) => Promise<DeadLetterBody[]>;

/** Longest a value is shown; the CLI's `stackl dlq show` gives it whole. */
const MAX_VALUE_BYTES = 16 * 1024;

export function kafkaDeadLetters(kafka: Kafka, topic: string, timeoutMs: number): DeadLetterReader {
  return async (limit) => {
    // The whole topic is read to its end and the newest kept: dead letters are few, and
    // readDeadLetters is what the CLI trusts. A topic grown large wants offsets per partition instead.
    const records = await readDeadLetters(kafka, topic, timeoutMs);
    const newest = records.sort((a, b) => b.timestamp.localeCompare(a.timestamp) || b.partition - a.partition).slice(0, limit);
    return newest.map((r) => ({
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key?.toString('utf8') ?? null,
      headers: Object.fromEntries(Object.keys(r.headers).map((name) => [name, headerText(r.headers, name)])),
      value: valueOf(r.value),
      valueBytes: r.value?.length ?? 0,
    }));
  };
}

/**
 * The custom broker's dead letters (table broker_dead_letters), in the same shape: partition 0,
 * the row id as the offset, the headers it recorded, and where the row came from as
 * `stackl.dlq.source` (e.g. `inbox:request`), newest first.
 */
export function tableDeadLetters(pool: pg.Pool, table: string): DeadLetterReader {
  return async (limit) => {
    const { rows } = await pool.query<{ id: string; source: string; task_id: string | null; value: Buffer | null; headers: Record<string, unknown>; recorded_at: Date }>(
      `select id, source, task_id, value, headers, recorded_at from ${table} order by id desc limit $1`,
      [limit],
    );
    return rows.map((r) => ({
      partition: 0,
      offset: String(r.id),
      timestamp: r.recorded_at.toISOString(),
      key: r.task_id,
      headers: { 'stackl.dlq.source': r.source, ...Object.fromEntries(Object.entries(r.headers).map(([name, v]) => [name, v === null ? null : String(v)])) },
      value: valueOf(r.value),
      valueBytes: r.value?.length ?? 0,
    }));
  };
}

function valueOf(bytes: Buffer | null): DeadLetterBody['value'] {
  if (bytes === null) return null;
  const shown = bytes.subarray(0, MAX_VALUE_BYTES);
  const text = shown.toString('utf8');
  // Text only when it round-trips and holds no control bytes other than whitespace.
  // eslint-disable-next-line no-control-regex
  return Buffer.from(text, 'utf8').equals(shown) && !/[\x00-\x08\x0e-\x1f]/.test(text) ? { text } : { base64: shown.toString('base64') };
}

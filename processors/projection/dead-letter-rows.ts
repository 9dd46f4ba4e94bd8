// A dead letter of the projector as a row of projection_dead_letters: the record
// topics/dead-letter.ts builds (original key, bytes and headers plus the dead-letter
// headers), with one more header naming its source position. The row is written in the
// batch's transaction and sent as stored, so what Kafka gets never depends on when (or by
// which process) it is published.
import type { IHeaders } from 'kafkajs';
import { deadLetter, DLQ_HEADERS } from '../../topics/dead-letter.js';
import type { Unprojectable } from './decode-batch.js';
import type { OffsetKey } from './offsets.js';
import { textValue } from './sql-values.js';

/**
 * `<projector>/<topic>/<partition>/<offset>`: the same value on every copy of one dead
 * letter, so a consumer of the dead-letter topic can drop the rare duplicate (a crash
 * after Kafka acknowledged the record and before it was marked published).
 */
export const DEAD_LETTER_SOURCE_HEADER = 'stackl.dlq.source';

export interface DeadLetterRow {
  /** Offset of the undecodable record in its partition of task.events. */
  offset: number;
  dlqTopic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  errorCode: string;
  errorMessage: string;
}

export function deadLetterSource(projector: string, topic: string, partition: number, offset: number): string {
  return `${projector}/${topic}/${partition}/${offset}`;
}

/** The row for one record of `partition` that did not decode. */
export function deadLetterRow(key: Required<OffsetKey>, dlqTopic: string, app: string, partition: number, { message, error }: Unprojectable): DeadLetterRow {
  const origin = { topic: key.topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} };
  const record = deadLetter(dlqTopic, app, origin, error);
  const offset = Number(message.offset);
  const headers: IHeaders = { ...record.headers, [DEAD_LETTER_SOURCE_HEADER]: deadLetterSource(key.projector, key.topic, partition, offset) };
  return {
    offset,
    dlqTopic: record.topic,
    key: record.key,
    value: record.value,
    headers,
    errorCode: textValue(headerText(record.headers[DLQ_HEADERS.code])) ?? '',
    errorMessage: textValue(headerText(record.headers[DLQ_HEADERS.message])) ?? '',
  };
}

/**
 * Headers as JSON for the jsonb column: `[[name, value], …]`, both base64, a repeated
 * header as repeated pairs. Base64 because a header is bytes and its name may hold what
 * jsonb refuses (NUL, a lone surrogate); a record that does not decode must still be kept.
 */
export function headersToJson(headers: IHeaders): string {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one === undefined) continue;
      pairs.push([Buffer.from(name).toString('base64'), Buffer.from(one).toString('base64')]);
    }
  }
  return JSON.stringify(pairs);
}

/** The inverse of headersToJson (values as Buffers, as kafkajs hands them to consumers). */
export function headersFromJson(json: unknown): IHeaders {
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const [name64, value64] of json as [string, string][]) {
    const name = Buffer.from(name64, 'base64').toString();
    const value = Buffer.from(value64, 'base64');
    const seen = headers[name];
    headers[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return headers;
}

function headerText(value: IHeaders[string]): string | null {
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? null : one.toString();
}

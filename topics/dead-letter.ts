// A record that cannot be processed goes to the dead-letter topic, so its partition
// keeps moving: the original key, bytes and headers, plus where it came from and why
// it failed. Every writer of task.dlq (stream runtime, projector, workers' channel)
// builds its records here, so the header names exist once.
import type { IHeaders } from 'kafkajs';
import { isStacklError } from '../core/errors.js';

export const DLQ_HEADERS = {
  topic: 'stackl.dlq.topic',
  partition: 'stackl.dlq.partition',
  offset: 'stackl.dlq.offset',
  code: 'stackl.dlq.error.code',
  message: 'stackl.dlq.error.message',
  app: 'stackl.dlq.app',
  /** Set when the record's own bytes were too large to keep: how many there were. */
  valueBytes: 'stackl.dlq.value-bytes',
  /** Set on an outcome that could not be delivered: where it was meant to go. */
  replyTarget: 'stackl.dlq.reply-target',
} as const;

/** Where the failed record was read. */
export interface DeadLetterOrigin {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

export interface DeadLetterRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export function deadLetter(dlqTopic: string, app: string, origin: DeadLetterOrigin, error: unknown): DeadLetterRecord {
  const headers: IHeaders = {
    ...origin.headers,
    [DLQ_HEADERS.topic]: origin.topic,
    [DLQ_HEADERS.partition]: String(origin.partition),
    [DLQ_HEADERS.offset]: origin.offset,
    ...failureHeaders(error),
    [DLQ_HEADERS.app]: app,
  };
  return { topic: dlqTopic, key: origin.key, value: origin.value, headers };
}

/** The error part of the headers, also for records that were written, not read (an undeliverable reply). */
export function failureHeaders(error: unknown): IHeaders {
  const code = isStacklError(error) ? error.code : 'PROCESSING_FAILED';
  const message = error instanceof Error ? error.message : String(error);
  return { [DLQ_HEADERS.code]: code, [DLQ_HEADERS.message]: message.slice(0, 2000) };
}

/** Kafka-style headers as text (values joined by "," when repeated), for JSON columns and HTTP. */
export function headersAsText(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || value === null) continue;
    out[name] = (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))).join(',');
  }
  return out;
}

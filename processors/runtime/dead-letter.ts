// A record that cannot be processed goes to the dead-letter topic, inside the same
// transaction that moves the partition past it: the partition keeps moving, and the
// original bytes plus where they came from and why they failed are kept for an operator.
import type { IHeaders } from 'kafkajs';
import { isStacklError } from '../../core/errors.js';
import type { InputRecord, OutputRecord } from './types.js';

export const DLQ_HEADERS = {
  topic: 'stackl.dlq.topic',
  partition: 'stackl.dlq.partition',
  offset: 'stackl.dlq.offset',
  code: 'stackl.dlq.error.code',
  message: 'stackl.dlq.error.message',
  app: 'stackl.dlq.app',
} as const;

export function deadLetter(dlqTopic: string, app: string, record: InputRecord, error: unknown): OutputRecord {
  const code = isStacklError(error) ? error.code : 'PROCESSING_FAILED';
  const message = error instanceof Error ? error.message : String(error);
  const headers: IHeaders = {
    ...record.headers,
    [DLQ_HEADERS.topic]: record.topic,
    [DLQ_HEADERS.partition]: String(record.partition),
    [DLQ_HEADERS.offset]: record.offset,
    [DLQ_HEADERS.code]: code,
    [DLQ_HEADERS.message]: message.slice(0, 2000),
    [DLQ_HEADERS.app]: app,
  };
  return { topic: dlqTopic, key: record.key, value: record.value, headers };
}

// A dead letter is stored before it is sent, so what is sent must be exactly what
// topics/dead-letter.ts built, plus the source header, whatever bytes the record held.
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { StacklError } from '../../../core/errors.js';
import { DEAD_LETTER_SOURCE_HEADER, deadLetterRow, headersFromJson, headersToJson } from '../../../processors/projection/dead-letter-rows.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';

const key = { schema: 's', topic: 'stackl.task.events', projector: 'projector' };

function message(offset: string, headers: KafkaMessage['headers'] = {}): KafkaMessage {
  return { key: Buffer.from('task-1'), value: Buffer.from([0xc3, 0x01, 0]), headers, offset, timestamp: '0', attributes: 0 } as KafkaMessage;
}

describe('deadLetterRow', () => {
  it('keeps the original key, bytes and headers, adds the dead-letter headers and names its source position', () => {
    const row = deadLetterRow(key, 'stackl.task.dlq', 'stackl.projector', 2, { message: message('41', { trace: Buffer.from('t-1') }), error: new StacklError('DECODE_BAD_MAGIC', 'not a STACKL record') });
    expect(row).toMatchObject({ offset: 41, dlqTopic: 'stackl.task.dlq', key: Buffer.from('task-1'), value: Buffer.from([0xc3, 0x01, 0]), errorCode: 'DECODE_BAD_MAGIC', errorMessage: 'not a STACKL record' });
    expect(row.headers).toMatchObject({
      trace: Buffer.from('t-1'),
      [DLQ_HEADERS.topic]: key.topic,
      [DLQ_HEADERS.partition]: '2',
      [DLQ_HEADERS.offset]: '41',
      [DLQ_HEADERS.code]: 'DECODE_BAD_MAGIC',
      [DLQ_HEADERS.app]: 'stackl.projector',
      [DEAD_LETTER_SOURCE_HEADER]: 'projector/stackl.task.events/2/41',
    });
  });

  it('makes the error columns storable: PostgreSQL text holds no NUL', () => {
    const row = deadLetterRow(key, 'dlq', 'app', 0, { message: message('7'), error: new Error('bad\0byte') });
    expect(row).toMatchObject({ errorCode: 'PROCESSING_FAILED', errorMessage: 'bad\uFFFDbyte' });
  });
});

describe('headers as JSON', () => {
  it('round-trips bytes, text, repeated headers and names jsonb would refuse, as Buffers', () => {
    const headers = { plain: 'text', bytes: Buffer.from([0, 255, 1]), repeated: [Buffer.from('a'), 'b'], 'nul\0name': 'x', 'lone\ud800': 'y', skipped: undefined };
    const json = headersToJson(headers);
    expect(json).not.toMatch(/\\u0000|\\ud800/i);
    expect(headersFromJson(JSON.parse(json))).toEqual({
      plain: Buffer.from('text'),
      bytes: Buffer.from([0, 255, 1]),
      repeated: [Buffer.from('a'), Buffer.from('b')],
      'nul\0name': Buffer.from('x'),
      // A lone surrogate cannot be UTF-8; the name comes back with U+FFFD, as Kafka would send it.
      'lone\uFFFD': Buffer.from('y'),
    });
  });
});

// Consumers dead-letter what they cannot decode instead of crashing or blocking a partition,
// so every kind of bad input must end in a DecodeError whose code and details say why.
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createCodec, decode, decodeSingleObject, encode, encodeConfluent, topicSchemas } from '../../../schemas/index.js';
import { expectDecodeError, failure } from './decode-errors.js';
import { envelope, sampleMessages } from './sample-messages.js';

const events = topicSchemas.TaskEvent;
const submitted = sampleMessages('TaskEvent')[0]!;
const valid = encode(events, submitted);
const header = valid.subarray(0, 10);

describe('decode of malformed records', () => {
  it('reports empty values and tombstones as DECODE_EMPTY', async () => {
    expectDecodeError(await failure(() => decode(Buffer.alloc(0))), 'DECODE_EMPTY');
    expectDecodeError(await failure(() => decode(null)), 'DECODE_EMPTY');
    expectDecodeError(await failure(() => decodeSingleObject(undefined)), 'DECODE_EMPTY');
  });

  it('reports a bad magic as DECODE_UNKNOWN_FORMAT with the first bytes', async () => {
    const error = expectDecodeError(await failure(() => decode(Buffer.from('{"json":true}'))), 'DECODE_UNKNOWN_FORMAT');
    expect(error.details).toMatchObject({ format: 'unknown', magic: '7b22' });
    expectDecodeError(await failure(() => decode(Buffer.from([0xc3, 0x02, 1, 2]))), 'DECODE_UNKNOWN_FORMAT');
  });

  it('reports an unknown fingerprint as DECODE_UNKNOWN_SCHEMA with the fingerprint', async () => {
    const bytes = Buffer.concat([Buffer.from('c3010102030405060708', 'hex'), valid.subarray(10)]);
    const error = expectDecodeError(await failure(() => decode(bytes)), 'DECODE_UNKNOWN_SCHEMA');
    expect(error.details).toMatchObject({ format: 'single-object', fingerprint: '0102030405060708', byteLength: bytes.length });
  });

  it('reports every truncation of a valid record as DECODE_TRUNCATED', async () => {
    for (const bytes of [valid, encodeConfluent(events, submitted, 7)]) {
      const codec = createCodec({ resolveSchema: async () => events.type });
      for (let length = 1; length < bytes.length; length += 1) {
        expectDecodeError(await failure(() => codec.decode(bytes.subarray(0, length))), 'DECODE_TRUNCATED');
      }
    }
  });

  it('reports trailing bytes as DECODE_INVALID', async () => {
    const error = expectDecodeError(await failure(() => decode(Buffer.concat([valid, Buffer.from([0])]))), 'DECODE_INVALID');
    expect(error.details).toMatchObject({ schema: 'stackl.v1.TaskEvent', fingerprint: events.fingerprint.toString('hex') });
  });

  it('reports an envelope type that does not name its body as DECODE_INVALID', async () => {
    const value = { ...envelope, type: 'TaskRejected', body: { 'stackl.v1.TaskCompleted': { output: '{}' } } };
    const bytes = Buffer.concat([header, events.type.toBuffer(value)]);
    const error = expectDecodeError(await failure(() => decode(bytes)), 'DECODE_INVALID');
    expect(error.message).toContain('TaskCompleted');
  });

  it('reports a record of another topic as DECODE_INVALID when the caller says which it expects', async () => {
    const request = encode(topicSchemas.TaskRequest, sampleMessages('TaskRequest')[1]!);
    const error = expectDecodeError(await failure(() => decode(request, events)), 'DECODE_INVALID');
    expect(error.details).toMatchObject({ schema: 'stackl.v1.TaskRequest', expected: 'stackl.v1.TaskEvent' });
  });

  it('reports ids that are not UUIDs as DECODE_INVALID', async () => {
    // A writer without the uuid logical type (another language, say) can put anything there.
    const lax = avro.Type.forSchema(events.avroSchema as avro.Schema, { wrapUnions: 'auto' });
    const value = { ...envelope, taskId: 'task-1', type: 'TaskExpunged', body: { 'stackl.v1.TaskExpunged': {} } };
    const bytes = Buffer.concat([header, lax.toBuffer(value)]);
    const error = expectDecodeError(await failure(() => decode(bytes)), 'DECODE_INVALID');
    expect(error.message).toContain('not a UUID');
  });

  it('refuses Confluent framing in the synchronous decoder', async () => {
    const bytes = encodeConfluent(events, submitted, 7);
    expectDecodeError(await failure(() => decodeSingleObject(bytes)), 'DECODE_UNKNOWN_FORMAT');
  });
});

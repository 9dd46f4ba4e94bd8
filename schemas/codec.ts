// Encodes STACKL messages as Avro single-object encoding and decodes both that and Confluent
// framing. Whatever the bytes, decoding fails only with a DecodeError (or, when a schema
// registry cannot be reached, a retriable ServiceUnavailableError): consumers dead-letter the
// first and retry the second.
import { fromAvroValue, toAvroValue } from './avro-value.js';
import { DecodeError, EncodeError } from './errors.js';
import type { DecodeErrorDetails } from './errors.js';
import { confluentHeader, readFraming, singleObjectHeader } from './framing.js';
import type { Framing } from './framing.js';
import type { StacklMessage, TopicMessages } from './generated/types.js';
import { historicalPlan } from './history-plans.js';
import { schemaByFingerprint } from './topic-schemas.js';
import type { EnvelopeName, TopicSchema } from './topic-schemas.js';
import { createPlanCache } from './writer-schemas.js';
import type { ReadPlan, SchemaResolver } from './writer-schemas.js';

/** Bytes as Kafka clients hand them over; null and undefined (tombstones) decode as empty. */
export type RecordBytes = Buffer | Uint8Array | null | undefined;

export interface CodecOptions {
  /** Looks up Confluent schema ids; without it Confluent-framed records are DECODE_UNKNOWN_SCHEMA. */
  resolveSchema?: SchemaResolver;
}

export interface Codec {
  /** Avro single-object encoding of a message. */
  encode<N extends EnvelopeName>(schema: TopicSchema<N>, message: NoInfer<TopicMessages[N]>): Buffer;
  /** Confluent framing with a registry id the caller registered `schema.avroSchema` under. */
  encodeConfluent<N extends EnvelopeName>(schema: TopicSchema<N>, message: NoInfer<TopicMessages[N]>, schemaId: number): Buffer;
  /** Decodes either framing; `expect` makes a record of another topic a DECODE_INVALID. */
  decode(bytes: RecordBytes): Promise<StacklMessage>;
  decode<N extends EnvelopeName>(bytes: RecordBytes, expect: TopicSchema<N>): Promise<TopicMessages[N]>;
  /** Synchronous decode of single-object encoding only (no registry lookups). */
  decodeSingleObject(bytes: RecordBytes): StacklMessage;
  decodeSingleObject<N extends EnvelopeName>(bytes: RecordBytes, expect: TopicSchema<N>): TopicMessages[N];
}

function asBuffer(bytes: RecordBytes): Buffer {
  if (bytes === null || bytes === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new DecodeError('DECODE_UNKNOWN_FORMAT', `record value is a ${typeof bytes}, not bytes`, { format: 'unknown', byteLength: 0 });
}

function readPayload(buffer: Buffer, frame: Framing, plan: ReadPlan, expect: TopicSchema | undefined): StacklMessage {
  const { schema, resolver } = plan;
  const details: DecodeErrorDetails = { ...frame.details, schema: schema.fullName };
  if (expect && expect !== schema) {
    throw new DecodeError('DECODE_INVALID', `expected a ${expect.name} record, got a ${schema.name}`, { ...details, expected: expect.fullName });
  }
  let result: { value: unknown; offset: number };
  try {
    result = schema.type.decode(buffer, frame.payloadOffset, resolver);
  } catch (error) {
    throw new DecodeError('DECODE_INVALID', `invalid ${schema.name} data: ${(error as Error).message}`, details, error);
  }
  if (result.offset < 0) throw new DecodeError('DECODE_TRUNCATED', `${schema.name} data ends early`, details);
  if (result.offset !== buffer.length) {
    throw new DecodeError('DECODE_INVALID', `${buffer.length - result.offset} bytes after the ${schema.name} data`, details);
  }
  return fromAvroValue(schema, result.value, details) as unknown as StacklMessage;
}

function singleObjectPlan(frame: Framing & { format: 'single-object' }): ReadPlan {
  const schema = schemaByFingerprint(frame.fingerprint);
  if (schema) return { schema };
  const earlier = historicalPlan(frame.fingerprint);
  if (earlier) return earlier;
  throw new DecodeError('DECODE_UNKNOWN_SCHEMA', `no bundled schema has fingerprint ${frame.fingerprint}`, frame.details);
}

export function createCodec(options: CodecOptions = {}): Codec {
  const plans = options.resolveSchema ? createPlanCache(options.resolveSchema) : undefined;

  function encode(schema: TopicSchema, message: unknown): Buffer {
    const value = toAvroValue(schema, message);
    return Buffer.concat([singleObjectHeader(schema.fingerprint), schema.type.toBuffer(value)]);
  }

  function encodeConfluent(schema: TopicSchema, message: unknown, schemaId: number): Buffer {
    if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
      throw new EncodeError(schema.name, ['schemaId'], `schema id must be a non-negative 32-bit integer, got ${schemaId}`);
    }
    const value = toAvroValue(schema, message);
    return Buffer.concat([confluentHeader(schemaId), schema.type.toBuffer(value)]);
  }

  function decodeSingleObject(bytes: RecordBytes, expect?: TopicSchema): StacklMessage {
    const buffer = asBuffer(bytes);
    const frame = readFraming(buffer);
    if (frame.format !== 'single-object') {
      throw new DecodeError('DECODE_UNKNOWN_FORMAT', 'Confluent-framed record: use the async decode', frame.details);
    }
    return readPayload(buffer, frame, singleObjectPlan(frame), expect);
  }

  async function decode(bytes: RecordBytes, expect?: TopicSchema): Promise<StacklMessage> {
    const buffer = asBuffer(bytes);
    const frame = readFraming(buffer);
    if (frame.format === 'single-object') return readPayload(buffer, frame, singleObjectPlan(frame), expect);
    if (!plans) {
      throw new DecodeError('DECODE_UNKNOWN_SCHEMA', `schema id ${frame.schemaId}: no schema registry configured`, frame.details);
    }
    const result = await plans(frame.schemaId);
    if (!result.ok) {
      const details = result.schema === undefined ? frame.details : { ...frame.details, schema: result.schema };
      throw new DecodeError('DECODE_UNKNOWN_SCHEMA', result.message, details);
    }
    return readPayload(buffer, frame, result.plan, expect);
  }

  return { encode, encodeConfluent, decode, decodeSingleObject } as Codec;
}

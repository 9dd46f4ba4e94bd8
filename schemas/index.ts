// The public surface of schemas/: the four topic schemas, the codec, its errors and the
// generated message types. Everything else in this folder is an implementation detail.
export { taskRequestSchema, taskResultSchema, taskDispatchSchema, taskEventSchema, topicSchemas } from './topic-schemas.js';
export type { TopicSchema, EnvelopeName } from './topic-schemas.js';
export { createCodec } from './codec.js';
export { CONFLUENT_MAGIC } from './framing.js';
export { encode, encodeConfluent, decode, decodeSingleObject, writeWithRegistryIds, writeWithoutRegistry, readWithRegistry, registryIdOf } from './process-codec.js';
export type { Codec, CodecOptions, RecordBytes } from './codec.js';
export type { SchemaResolver, SchemaSource } from './writer-schemas.js';
export { confluentSchemaResolver } from './confluent-registry.js';
export type { SchemaRegistryLike } from './confluent-registry.js';
export { DecodeError, EncodeError, DECODE_ERROR_CODES } from './errors.js';
export type { DecodeErrorCode, DecodeErrorDetails } from './errors.js';
export type * from './generated/types.js';

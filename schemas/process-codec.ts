// The codec every role of this process writes and reads with. A deployment either has no schema
// registry (records are Avro single-object encoded; readers know the bundled fingerprints) or
// one registry for all its roles (STACKL_SCHEMA_REGISTRY_URL): then each envelope was registered
// once at start (topics/schema-registration.ts) and every record carries its registry id in
// Confluent framing. The choice is made once per process, before any role produces, so encoding
// stays synchronous and the twenty call sites need no codec handed to them.
import { createCodec } from './codec.js';
import type { Codec, RecordBytes } from './codec.js';
import type { StacklMessage, TopicMessages } from './generated/types.js';
import type { EnvelopeName, TopicSchema } from './topic-schemas.js';
import type { SchemaResolver } from './writer-schemas.js';

let active: Codec = createCodec();
let registryIds: ReadonlyMap<EnvelopeName, number> | undefined;

/**
 * From now on, write each envelope in Confluent framing with the registry id it was registered
 * under, and read Confluent-framed records through `resolveSchema` (single-object records
 * still read as before, so a topic written before the switch stays readable).
 */
export function writeWithRegistryIds(ids: ReadonlyMap<EnvelopeName, number>, resolveSchema: SchemaResolver): void {
  active = createCodec({ resolveSchema });
  registryIds = new Map(ids);
}

/** Read Confluent-framed records through `resolveSchema`, writing as before (tools that only read). */
export function readWithRegistry(resolveSchema: SchemaResolver): void {
  active = createCodec({ resolveSchema });
}

/** Back to single-object encoding and bundled schemas only (a process that leaves its registry). */
export function writeWithoutRegistry(): void {
  active = createCodec();
  registryIds = undefined;
}

/** The registry id this process writes `name` with, if it writes Confluent framing. */
export function registryIdOf(name: EnvelopeName): number | undefined {
  return registryIds?.get(name);
}

/** Encodes a message the way this process writes: Confluent framing with a registry, single-object without. */
export function encode<N extends EnvelopeName>(schema: TopicSchema<N>, message: NoInfer<TopicMessages[N]>): Buffer {
  const id = registryIds?.get(schema.name);
  return id === undefined ? active.encode(schema, message) : active.encodeConfluent(schema, message, id);
}

/** Confluent framing with an id the caller registered `schema.avroSchema` under (tools and tests). */
export function encodeConfluent<N extends EnvelopeName>(schema: TopicSchema<N>, message: NoInfer<TopicMessages[N]>, schemaId: number): Buffer {
  return active.encodeConfluent(schema, message, schemaId);
}

/** Decodes either framing (Confluent ids through this process's registry, when it has one). */
export function decode(bytes: RecordBytes): Promise<StacklMessage>;
export function decode<N extends EnvelopeName>(bytes: RecordBytes, expect: TopicSchema<N>): Promise<TopicMessages[N]>;
export function decode(bytes: RecordBytes, expect?: TopicSchema): Promise<StacklMessage> {
  return expect === undefined ? active.decode(bytes) : active.decode(bytes, expect);
}

/** Synchronous decode of single-object records only (see Codec#decodeSingleObject). */
export function decodeSingleObject(bytes: RecordBytes): StacklMessage;
export function decodeSingleObject<N extends EnvelopeName>(bytes: RecordBytes, expect: TopicSchema<N>): TopicMessages[N];
export function decodeSingleObject(bytes: RecordBytes, expect?: TopicSchema): StacklMessage {
  return expect === undefined ? active.decodeSingleObject(bytes) : active.decodeSingleObject(bytes, expect);
}

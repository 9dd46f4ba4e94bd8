// Confluent framing: the writer schema is named by a registry id, looked up through an
// injected resolver. These are pure unit tests: an in-memory map stands in for the registry.
import avro from 'avsc';
import { describe, expect, it, vi } from 'vitest';
import { ServiceUnavailableError } from '../../../core/errors.js';
import { confluentSchemaResolver, createCodec, decode, encodeConfluent, topicSchemas } from '../../../schemas/index.js';
import type { SchemaSource } from '../../../schemas/index.js';
import { expectDecodeError, failure } from './decode-errors.js';
import { envelope, sampleMessages } from './sample-messages.js';

const events = topicSchemas.TaskEvent;
const completed = sampleMessages('TaskEvent').find((m) => m.type === 'TaskCompleted')!;

/** The TaskEvent schema as a later version might write it: TaskCompleted gained a field. */
function evolvedEventSchema(): object {
  const schema = JSON.parse(JSON.stringify(events.avroSchema));
  const body = schema.fields.find((f: { name: string }) => f.name === 'body');
  const taskCompleted = body.type.find((t: { name?: string }) => t.name === 'stackl.v1.TaskCompleted');
  taskCompleted.fields.push({ name: 'durationMs', type: 'long', default: 0 });
  return schema;
}

function stubCodec(schemas: Record<number, SchemaSource>) {
  const resolveSchema = vi.fn(async (id: number) => schemas[id]);
  return { codec: createCodec({ resolveSchema }), resolveSchema };
}

describe('Confluent-framed records', () => {
  it('decode whether the resolver gives an avsc Type, schema JSON or its text', async () => {
    const { codec } = stubCodec({ 1: events.type, 2: events.avroSchema, 3: JSON.stringify(events.avroSchema) });
    for (const id of [1, 2, 3]) {
      expect(await codec.decode(encodeConfluent(events, completed, id), events)).toStrictEqual(completed);
    }
  });

  it('look each schema id up once', async () => {
    const { codec, resolveSchema } = stubCodec({ 5: events.type });
    for (let i = 0; i < 3; i += 1) await codec.decode(encodeConfluent(events, completed, 5));
    expect(resolveSchema).toHaveBeenCalledTimes(1);
  });

  it('written with an evolved schema decode into the bundled one', async () => {
    const writer = avro.Type.forSchema(evolvedEventSchema() as avro.Schema, { wrapUnions: 'auto' });
    const value = { ...completed, body: { 'stackl.v1.TaskCompleted': { ...completed.body, durationMs: 1234 } } };
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, 9]), writer.toBuffer(value)]);
    const { codec } = stubCodec({ 9: evolvedEventSchema() });
    expect(await codec.decode(bytes)).toStrictEqual(completed);
  });

  it('with an id the registry does not know are DECODE_UNKNOWN_SCHEMA', async () => {
    const { codec } = stubCodec({});
    const error = expectDecodeError(await failure(() => codec.decode(encodeConfluent(events, completed, 77))), 'DECODE_UNKNOWN_SCHEMA');
    expect(error.details).toMatchObject({ format: 'confluent', schemaId: 77 });
  });

  it('without a resolver are DECODE_UNKNOWN_SCHEMA', async () => {
    expectDecodeError(await failure(() => decode(encodeConfluent(events, completed, 1))), 'DECODE_UNKNOWN_SCHEMA');
  });

  it('whose writer schema is foreign or unreadable are DECODE_UNKNOWN_SCHEMA', async () => {
    const incompatible = JSON.parse(JSON.stringify(events.avroSchema));
    incompatible.fields.find((f: { name: string }) => f.name === 'sequence').type = 'boolean';
    const { codec } = stubCodec({ 1: { type: 'record', name: 'other.Thing', fields: [] }, 2: incompatible, 3: '{not json' });
    for (const id of [1, 2, 3]) {
      expectDecodeError(await failure(() => codec.decode(Buffer.from([0, 0, 0, 0, id, 0]))), 'DECODE_UNKNOWN_SCHEMA');
    }
  });

  it('fail retriably, and are retried, while the registry cannot answer', async () => {
    let down = true;
    const codec = createCodec({
      resolveSchema: async () => {
        if (down) throw new Error('ECONNREFUSED');
        return events.type;
      },
    });
    const bytes = encodeConfluent(events, completed, 3);
    const error = await failure(() => codec.decode(bytes));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).retriable).toBe(true);
    down = false;
    expect(await codec.decode(bytes)).toStrictEqual(completed);
  });
});

describe('confluentSchemaResolver', () => {
  // Shaped like @kafkajs/confluent-schema-registry: getSchema resolves an avsc Type parsed with
  // the client's own options, and rejects with an error carrying the HTTP status.
  const registry = {
    getSchema: async (id: number) => {
      if (id === 1) return avro.Type.forSchema(events.avroSchema as avro.Schema);
      throw Object.assign(new Error(`status ${id}`), { status: id });
    },
  };
  const codec = createCodec({ resolveSchema: confluentSchemaResolver(registry) });
  const message = { ...envelope, type: 'TaskExpunged', body: {} } as const;

  it('reads records through the client', async () => {
    expect(await codec.decode(encodeConfluent(events, message, 1))).toStrictEqual(message);
  });

  it('maps 404 to an unknown schema and other failures to an unavailable registry', async () => {
    expectDecodeError(await failure(() => codec.decode(encodeConfluent(events, message, 404))), 'DECODE_UNKNOWN_SCHEMA');
    expect(await failure(() => codec.decode(encodeConfluent(events, message, 500)))).toBeInstanceOf(ServiceUnavailableError);
  });
});

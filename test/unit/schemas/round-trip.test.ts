import { describe, expect, it } from 'vitest';
import { createCodec, decode, decodeSingleObject, encode, topicSchemas } from '../../../schemas/index.js';
import type { EnvelopeName } from '../../../schemas/index.js';
import { sampleMessages } from './sample-messages.js';

const names = Object.keys(topicSchemas) as EnvelopeName[];

describe.each(names)('%s round trip', (name) => {
  const schema = topicSchemas[name];
  const messages = sampleMessages(name);

  it('has a sample for every body type of the topic', () => {
    expect(messages.map((m) => m.type)).toEqual(schema.bodyTypes);
  });

  it.each(messages.map((m) => [m.type, m] as const))('%s survives encode and decode', async (_type, message) => {
    const bytes = encode(schema, message);
    expect(await decode(bytes)).toStrictEqual(message);
    expect(await decode(bytes, schema)).toStrictEqual(message);
    expect(decodeSingleObject(bytes, schema)).toStrictEqual(message);
  });

  it('frames every record with the schema fingerprint', () => {
    for (const message of messages) {
      const bytes = encode(schema, message);
      expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
      expect(bytes.subarray(2, 10)).toEqual(schema.fingerprint);
    }
  });

  it('survives Confluent framing with a resolver that returns the bundled schema', async () => {
    const codec = createCodec({ resolveSchema: async (id) => (id === 42 ? schema.type : undefined) });
    for (const message of messages) {
      const bytes = codec.encodeConfluent(schema, message, 42);
      expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0x00, 0, 0, 0, 42]));
      expect(await codec.decode(bytes, schema)).toStrictEqual(message);
    }
  });
});

describe('decoded messages', () => {
  it('are plain objects, not avsc records or union wrappers', async () => {
    const [message] = sampleMessages('TaskDispatch');
    const decoded = await decode(encode(topicSchemas.TaskDispatch, message!));
    // toStrictEqual above already compares prototypes; this states the contract for readers.
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(decoded.body)).toBe(Object.prototype);
    expect(Object.keys(decoded.body)).toEqual(['task', 'attempt', 'deadlineAt']);
  });

  it('bodies of the same short name stay distinct between topics', async () => {
    const result = sampleMessages('TaskResult').find((m) => m.type === 'AttemptStarted')!;
    const event = sampleMessages('TaskEvent').find((m) => m.type === 'AttemptStarted')!;
    expect(await decode(encode(topicSchemas.TaskResult, result))).toStrictEqual(result);
    expect(await decode(encode(topicSchemas.TaskEvent, event))).toStrictEqual(event);
    expect(topicSchemas.TaskResult.bodyFullNames.get('AttemptStarted')).toBe('stackl.v1.result.AttemptStarted');
    expect(topicSchemas.TaskEvent.bodyFullNames.get('AttemptStarted')).toBe('stackl.v1.AttemptStarted');
  });
});

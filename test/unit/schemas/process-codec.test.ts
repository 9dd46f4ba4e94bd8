// The process-wide codec every role writes with: single-object encoding until a registry's ids
// are installed, Confluent framing with those ids after, and back; records of either framing
// decode throughout. An in-memory map stands in for the registry.
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode, registryIdOf, topicSchemas, writeWithoutRegistry, writeWithRegistryIds } from '../../../schemas/index.js';
import { sampleMessages } from './sample-messages.js';

const events = topicSchemas.TaskEvent;
const completed = sampleMessages('TaskEvent').find((m) => m.type === 'TaskCompleted')!;

afterEach(() => writeWithoutRegistry());

describe('the process codec', () => {
  it('writes single-object encoding without a registry', () => {
    expect(registryIdOf('TaskEvent')).toBeUndefined();
    expect(encode(events, completed).subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
  });

  it('writes Confluent framing with the installed id of each envelope, and reads both framings', async () => {
    const before = encode(events, completed);
    writeWithRegistryIds(new Map([['TaskEvent', 42]]), async (id) => (id === 42 ? events.avroSchema : undefined));
    const after = encode(events, completed);
    expect(after[0]).toBe(0);
    expect(after.readUInt32BE(1)).toBe(42);
    expect(registryIdOf('TaskEvent')).toBe(42);
    // An envelope without an installed id keeps single-object encoding.
    const request = sampleMessages('TaskRequest')[0]!;
    expect(encode(topicSchemas.TaskRequest, request).subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    expect(await decode(after, events)).toEqual(completed);
    expect(await decode(before, events)).toEqual(completed);
  });

  it('goes back to single-object encoding, and then cannot resolve registry ids', async () => {
    writeWithRegistryIds(new Map([['TaskEvent', 7]]), async () => events.avroSchema);
    const framed = encode(events, completed);
    writeWithoutRegistry();
    expect(encode(events, completed).subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    await expect(decode(framed, events)).rejects.toMatchObject({ code: 'DECODE_UNKNOWN_SCHEMA' });
  });
});

// Thousands of deterministic pseudo-random records: pure noise, noise behind a valid header
// (so the Avro decoder itself is exercised) and valid records with a few bytes flipped.
// Whatever happens, decode either returns a message or rejects with a DecodeError: any other
// exception would crash a consumer instead of dead-lettering one record.
import { describe, expect, it } from 'vitest';
import { createCodec, encode, topicSchemas } from '../../../schemas/index.js';
import type { EnvelopeName } from '../../../schemas/index.js';
import { expectDecodeError } from './decode-errors.js';
import { sampleMessages } from './sample-messages.js';

/** mulberry32: tiny, seedable, good enough to spread bytes. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const names = Object.keys(topicSchemas) as EnvelopeName[];
const valid = names.flatMap((name) => sampleMessages(name).map((m) => encode(topicSchemas[name], m)));
const headers = [
  ...names.map((name) => Buffer.concat([Buffer.from([0xc3, 0x01]), topicSchemas[name].fingerprint])),
  ...names.map((_, id) => Buffer.from([0, 0, 0, 0, id])),
];
// Confluent ids 0..3 resolve to the bundled schemas, any other id is unknown.
const codec = createCodec({ resolveSchema: async (id) => topicSchemas[names[id] as EnvelopeName]?.type });

function randomRecord(random: () => number): Buffer {
  const int = (n: number) => Math.floor(random() * n);
  const noise = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  switch (int(3)) {
    case 0:
      return noise(int(40));
    case 1:
      return Buffer.concat([headers[int(headers.length)]!, noise(int(120))]);
    default: {
      const bytes = Buffer.from(valid[int(valid.length)]!);
      for (let flips = 1 + int(4); flips > 0; flips -= 1) bytes[10 + int(bytes.length - 10)] = int(256);
      return bytes;
    }
  }
}

describe('decode of random bytes', () => {
  it('never fails with anything but a DecodeError', async () => {
    const random = prng(0x5eed);
    let decoded = 0;
    for (let i = 0; i < 4_000; i += 1) {
      const bytes = randomRecord(random);
      try {
        await codec.decode(bytes);
        decoded += 1;
      } catch (error) {
        if (!(error instanceof Error && 'code' in error && String(error.code).startsWith('DECODE_'))) {
          throw new Error(`record ${i} (${bytes.toString('hex')}) failed with ${String(error)}`, { cause: error });
        }
        expectDecodeError(error);
      }
    }
    // Some flipped bytes land in strings and still decode; most records must not.
    expect(decoded).toBeLessThan(4_000);
  });
});

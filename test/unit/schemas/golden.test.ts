// Golden records: the exact bytes of a few messages. If one of these tests fails after a
// schema change, the WIRE FORMAT CHANGED: records already on Kafka (task.events is kept for
// audit and replay) were written with the old bytes. Only regenerate the fixtures on purpose,
// with a new schema version or a migration plan, never to make the test pass.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, encode, topicSchemas } from '../../../schemas/index.js';
import type { EnvelopeName, StacklMessage } from '../../../schemas/index.js';

interface Fixture {
  schema: EnvelopeName;
  message: StacklMessage;
  hex: string;
}

function readFixtures(dir: URL): (readonly [string, Fixture])[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => [file, JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Fixture] as const);
}

const fixtures = readFixtures(new URL('./fixtures/', import.meta.url));
// Bytes written by earlier versions of an envelope (schemas/avro/history): still on Kafka.
const history = readFixtures(new URL('./fixtures/history/', import.meta.url));

describe('golden fixtures', () => {
  it('cover every topic', () => {
    expect(new Set(fixtures.map(([, f]) => f.schema))).toEqual(new Set(Object.keys(topicSchemas)));
  });

  describe.each(fixtures)('%s', (_file, fixture) => {
    const schema = topicSchemas[fixture.schema];

    it('encodes to the recorded bytes', () => {
      expect(encode(schema, fixture.message).toString('hex')).toBe(fixture.hex);
    });

    it('decodes the recorded bytes to the message', async () => {
      expect(await decode(Buffer.from(fixture.hex, 'hex'), schema)).toStrictEqual(fixture.message);
    });

    it('starts with the single-object marker and the schema fingerprint', () => {
      expect(fixture.hex.slice(0, 20)).toBe(`c301${schema.fingerprint.toString('hex')}`);
    });
  });
});

describe('records written with an earlier envelope', () => {
  it('are kept for every envelope that changed', () => {
    expect(history.length).toBeGreaterThan(0);
  });

  describe.each(history)('%s', (_file, fixture) => {
    const schema = topicSchemas[fixture.schema];

    it('carries a fingerprint this build no longer writes', () => {
      expect(fixture.hex.slice(4, 20)).not.toBe(schema.fingerprint.toString('hex'));
    });

    it('still decodes to the same message', async () => {
      expect(await decode(Buffer.from(fixture.hex, 'hex'), schema)).toStrictEqual(fixture.message);
    });
  });
});

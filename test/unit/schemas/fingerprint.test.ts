// The fingerprint decides which schema a single-object record is read with, and other Avro
// implementations must compute the same one, so it is checked against the vectors of the
// Avro project itself (share/test/data/schema-tests.txt, where Java prints them signed) and
// the single-object header of "int" from the Ruby implementation's tests.
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { parsingCanonicalForm } from '../../../schemas/canonical-form.js';
import { crc64Avro, schemaFingerprint } from '../../../schemas/fingerprint.js';
import { topicSchemas } from '../../../schemas/index.js';

const vectors: Array<[input: unknown, canonical: string, fingerprint: bigint]> = [
  ['null', '"null"', 7195948357588979594n],
  [{ type: 'int' }, '"int"', 8247732601305521295n],
  ['string', '"string"', -8142146995180207161n],
  [[], '[]', -1241056759729112623n],
  [['int', { type: 'boolean' }], '["int","boolean"]', 5392556393470105090n],
  [{ fields: [], type: 'record', name: 'foo', namespace: 'x.y' }, '{"name":"x.y.foo","type":"record","fields":[]}', 5916914534497305771n],
  [{ fields: [], type: 'record', name: 'a.b.foo', namespace: 'x.y' }, '{"name":"a.b.foo","type":"record","fields":[]}', -4616218487480524110n],
  [
    {
      fields: [
        { type: 'boolean', aliases: [], name: 'f1', default: 'true' },
        { order: 'descending', name: 'f2', doc: 'Hello', type: 'int' },
      ],
      type: 'record',
      name: 'foo',
    },
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
    -4860222112080293046n,
  ],
  [
    { namespace: 'x.y.z', type: 'enum', name: 'foo', doc: 'foo bar', symbols: ['A1', 'A2'] },
    '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
    -4448647247586288245n,
  ],
  [{ namespace: 'x.y.z', type: 'fixed', name: 'foo', doc: 'foo bar', size: 32 }, '{"name":"x.y.z.foo","type":"fixed","size":32}', -3064184465700546786n],
  [{ items: { type: 'null' }, type: 'array' }, '{"type":"array","items":"null"}', -589620603366471059n],
  [{ values: 'string', type: 'map' }, '{"type":"map","values":"string"}', -8732877298790414990n],
  [
    { name: 'PigValue', type: 'record', fields: [{ name: 'value', type: ['null', 'int', 'long', 'PigValue'] }] },
    '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    -1759257747318642341n,
  ],
];

describe('Parsing Canonical Form and CRC-64-AVRO', () => {
  it.each(vectors)('%j', (input, canonical, fingerprint) => {
    expect(parsingCanonicalForm(input)).toBe(canonical);
    expect(BigInt.asIntN(64, crc64Avro(Buffer.from(canonical)))).toBe(fingerprint);
  });

  it('writes the fingerprint of "int" little-endian, as the single-object header does', () => {
    expect(schemaFingerprint('"int"').toString('hex')).toBe('8f5c393f1ad57572');
  });

  it('strips logical types, docs and defaults', () => {
    const schema = { type: 'record', name: 'r', namespace: 'n', doc: 'd', fields: [{ name: 't', type: { type: 'long', logicalType: 'timestamp-millis' }, default: 0 }] };
    expect(parsingCanonicalForm(schema)).toBe('{"name":"n.r","type":"record","fields":[{"name":"t","type":"long"}]}');
  });
});

describe.each(Object.values(topicSchemas))('$name schema', (schema) => {
  it("has avsc's canonical form too, so both agree on what the writer schema is", () => {
    expect(schema.canonicalForm).toBe(JSON.stringify(schema.type.schema()));
  });

  it('keeps its fingerprint when re-parsed from the schema given to a registry', () => {
    const reparsed = avro.Type.forSchema(JSON.parse(JSON.stringify(schema.avroSchema)));
    expect(schemaFingerprint(parsingCanonicalForm(reparsed.schema()))).toEqual(schema.fingerprint);
  });

  it('exports a self-contained schema with docs, defaults and logical types', () => {
    const text = JSON.stringify(schema.avroSchema);
    expect(text).toContain('"logicalType":"timestamp-millis"');
    expect(text).toContain('"logicalType":"uuid"');
    expect(text).toContain('"default":null');
    expect(text).toContain('"doc":');
    expect(() => avro.Type.forSchema(schema.avroSchema as avro.Schema)).not.toThrow();
  });
});

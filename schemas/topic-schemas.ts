// The four topic envelopes, parsed once from the bundled .avsc sources with one shared avsc
// registry, each with what the codec and a schema registry need: the full (dereferenced)
// schema, its Parsing Canonical Form and CRC-64-AVRO fingerprint, and its body branches.
import avro from 'avsc';
import type { Schema, Type, types } from 'avsc';
import { parsingCanonicalForm } from './canonical-form.js';
import { schemaFingerprint } from './fingerprint.js';
import { avroSources } from './generated/avro-sources.js';
import type { TopicMessages } from './generated/types.js';
import { parseOptions } from './logical-types.js';

/** Name of an envelope record, which is also the key of its message type in TopicMessages. */
export type EnvelopeName = keyof TopicMessages;

export interface TopicSchema<N extends EnvelopeName = EnvelopeName> {
  /** Envelope record name, e.g. 'TaskEvent'. */
  readonly name: N;
  /** Avro full name, e.g. 'stackl.v1.TaskEvent'. */
  readonly fullName: string;
  /** The avsc type (body union wrapped, as avsc needs it; the codec unwraps). */
  readonly type: Type;
  /** The full schema with every named type inlined, docs and defaults kept: register this. */
  readonly avroSchema: object;
  readonly canonicalForm: string;
  /** CRC-64-AVRO of the canonical form, 8 bytes little-endian as on the wire. */
  readonly fingerprint: Buffer;
  /** The body types allowed on this topic, in union order. */
  readonly bodyTypes: readonly TopicMessages[N]['type'][];
  /** Avro full name of the body record of each type ('AttemptStarted' → 'stackl.v1.result.AttemptStarted'). */
  readonly bodyFullNames: ReadonlyMap<string, string>;
}

function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

const registry: Record<string, Type> = {};
for (const source of avroSources) avro.Type.forSchema(source.schema as Schema, parseOptions(registry));

function topicSchema<N extends EnvelopeName>(name: N): TopicSchema<N> {
  const fullName = `stackl.v1.${name}`;
  const type = registry[fullName];
  if (!type || !avro.Type.isType(type, 'record')) throw new Error(`bundled schemas lack the envelope ${fullName}`);
  const fields = (type as types.RecordType).fields;
  const body = fields.find((f) => f.name === 'body')?.type;
  const typeSymbols = (fields.find((f) => f.name === 'type')?.type as types.EnumType | undefined)?.symbols ?? [];
  if (!body || body.typeName !== 'union:wrapped') throw new Error(`${fullName}.body must be a union of records`);
  const branches = (body as types.WrappedUnionType).types.map((t) => t.name ?? '');
  const bodyTypes = branches.map(shortName);
  // The codec relies on `type` naming the body branch; the generator checks it too.
  if (bodyTypes.join() !== typeSymbols.join()) throw new Error(`${fullName}: type symbols differ from body records`);
  const avroSchema = type.schema({ exportAttrs: true }) as object;
  const canonicalForm = parsingCanonicalForm(avroSchema);
  return {
    name,
    fullName,
    type,
    avroSchema,
    canonicalForm,
    fingerprint: schemaFingerprint(canonicalForm),
    bodyTypes: bodyTypes as TopicMessages[N]['type'][],
    bodyFullNames: new Map(bodyTypes.map((short, i) => [short, branches[i] ?? ''])),
  };
}

export const taskRequestSchema = topicSchema('TaskRequest');
export const taskResultSchema = topicSchema('TaskResult');
export const taskDispatchSchema = topicSchema('TaskDispatch');
export const taskEventSchema = topicSchema('TaskEvent');

/** Every topic schema by envelope name. */
export const topicSchemas: { readonly [N in EnvelopeName]: TopicSchema<N> } = {
  TaskRequest: taskRequestSchema,
  TaskResult: taskResultSchema,
  TaskDispatch: taskDispatchSchema,
  TaskEvent: taskEventSchema,
};

const all: readonly TopicSchema[] = Object.values(topicSchemas);
const byFingerprint = new Map(all.map((s) => [s.fingerprint.toString('hex'), s]));
const byFullName = new Map(all.map((s) => [s.fullName, s]));

/** The bundled schema whose fingerprint (hex of the 8 wire bytes) this is, if any. */
export function schemaByFingerprint(fingerprintHex: string): TopicSchema | undefined {
  return byFingerprint.get(fingerprintHex);
}

/** The bundled schema of an envelope full name, e.g. to read an older writer schema. */
export function schemaByFullName(fullName: string): TopicSchema | undefined {
  return byFullName.get(fullName);
}

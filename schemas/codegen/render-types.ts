// Renders schemas/generated/types.ts from the parsed .avsc files: the named types, then per
// envelope a map of body types and a discriminated union of decoded messages. Bodies are
// presented unwrapped (the codec maps avsc's wrapped union), so the envelope record itself
// gets no interface: its `type` field is the discriminant.
import type { Type, types } from 'avsc';
import { GENERATED_HEADER } from './header.js';
import type { ParsedSource } from './read-sources.js';
import { collectNamed, docComment, renderField, renderNamed, shortName, tsName, tsType } from './render-named.js';

interface EnvelopeParts {
  readonly name: string;
  readonly doc: string | undefined;
  readonly common: types.Field[];
  readonly bodies: Type[];
}

/** Splits an envelope into its common fields and body records, checking `type` names the bodies. */
function envelopeParts(type: Type): EnvelopeParts {
  const record = type as types.RecordType;
  const typeField = record.fields.find((f) => f.name === 'type');
  const bodyField = record.fields.find((f) => f.name === 'body');
  if (!typeField || !bodyField || bodyField.type.typeName !== 'union:wrapped') {
    throw new Error(`${type.name}: an envelope needs a type enum and a body union of records`);
  }
  const bodies = (bodyField.type as types.WrappedUnionType).types;
  const symbols = (typeField.type as types.EnumType).symbols ?? [];
  const names = bodies.map((b) => shortName(b.name ?? ''));
  if (symbols.join() !== names.join()) {
    throw new Error(`${type.name}: type symbols [${symbols.join()}] differ from body records [${names.join()}]`);
  }
  const common = record.fields.filter((f) => f !== typeField && f !== bodyField);
  return { name: tsName(type.name ?? ''), doc: type.doc, common, bodies };
}

function renderEnvelopeFields(envelopes: EnvelopeParts[]): string {
  const first = envelopes[0];
  if (!first) throw new Error('no envelope schemas found');
  const signature = (e: EnvelopeParts) => e.common.map((f) => `${f.name}:${tsType(f.type)}`).join();
  for (const e of envelopes) {
    if (signature(e) !== signature(first)) throw new Error(`${e.name}: common fields differ from ${first.name}`);
  }
  const fields = first.common.map(renderField).join('');
  return `/** The fields every envelope carries besides \`type\` and \`body\`. */\nexport interface Envelope {\n${fields}}\n`;
}

function renderEnvelope(e: EnvelopeParts): string {
  const entries = e.bodies.map((b) => [shortName(b.name ?? ''), tsName(b.name ?? '')] as const);
  const map = entries.map(([type, ts]) => `  ${type}: ${ts};\n`).join('');
  const union = entries.map(([type, ts]) => `  | { type: '${type}'; body: ${ts} }\n`).join('');
  return (
    `/** The body record of each ${e.name} type. */\nexport interface ${e.name}Bodies {\n${map}}\n\n` +
    `${docComment(e.doc, '')}export type ${e.name}Message = Envelope & (\n${union});\n`
  );
}

export function renderTypes(sources: readonly ParsedSource[]): string {
  const envelopes = sources.filter((s) => s.envelope).map((s) => envelopeParts(s.type));
  const sections = [renderEnvelopeFields(envelopes)];
  const seen = new Set<string>();
  for (const source of sources) {
    // An envelope record gets no interface of its own; its message union is rendered instead.
    const roots = source.envelope ? (source.type as types.RecordType).fields.map((f) => f.type) : [source.type];
    const named: Type[] = [];
    for (const root of roots) collectNamed(root, seen, named);
    sections.push(...named.map(renderNamed));
    const envelope = source.envelope ? envelopes.find((e) => e.name === tsName(source.type.name ?? '')) : undefined;
    if (envelope) sections.push(renderEnvelope(envelope));
  }
  const messages = envelopes.map((e) => `  ${e.name}: ${e.name}Message;\n`).join('');
  sections.push(`/** The decoded message type of each envelope, by envelope record name. */\nexport interface TopicMessages {\n${messages}}\n`);
  sections.push(`/** A message of any topic. */\nexport type StacklMessage = TopicMessages[keyof TopicMessages];\n`);
  return `${GENERATED_HEADER}\n${sections.join('\n')}`;
}

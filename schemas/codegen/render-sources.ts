// Renders schemas/generated/avro-sources.ts: the .avsc files embedded as data, in dependency
// order. The codec parses these at start-up, so it works from dist/ (which has no .avsc files)
// and a stale copy is caught by the same drift test as the types.
import type { ParsedSource } from './read-sources.js';
import { GENERATED_HEADER } from './header.js';

export function renderSources(sources: readonly ParsedSource[]): string {
  const entries = sources
    .map((s) => {
      const schema = JSON.stringify(s.schema, null, 2).replace(/\n/g, '\n    ');
      return `  {\n    file: '${s.file}',\n    envelope: ${s.envelope},\n    schema: ${schema},\n  },\n`;
    })
    .join('');
  return (
    `${GENERATED_HEADER}\n` +
    '/** One .avsc file of schemas/avro; every named type is defined in an earlier entry than its first use. */\n' +
    'export interface AvroSource {\n' +
    '  /** Path under schemas/avro. */\n' +
    '  readonly file: string;\n' +
    '  /** True for the top-level envelope of a topic. */\n' +
    '  readonly envelope: boolean;\n' +
    '  readonly schema: unknown;\n' +
    '}\n\n' +
    `export const avroSources: readonly AvroSource[] = [\n${entries}];\n`
  );
}

// Renders schemas/generated/avro-history.ts: earlier versions of the topic envelopes, each a
// self-contained schema frozen when the envelope changed (schemas/avro/history/
// <Envelope>.<fingerprint>.avsc). task.events is kept for audit and replay, so the codec must
// keep reading records written with any of them.
import { readdir, readFile } from 'node:fs/promises';
import { GENERATED_HEADER } from './header.js';

export interface HistorySource {
  readonly file: string;
  readonly schema: unknown;
}

export async function readAvroHistory(historyDir: URL): Promise<HistorySource[]> {
  const names = (await readdir(historyDir)).filter((name) => name.endsWith('.avsc')).sort();
  return Promise.all(names.map(async (file) => ({ file, schema: JSON.parse(await readFile(new URL(file, historyDir), 'utf8')) as unknown })));
}

export function renderHistory(sources: readonly HistorySource[]): string {
  const entries = sources
    .map((s) => `  {\n    file: '${s.file}',\n    schema: ${JSON.stringify(s.schema, null, 2).replace(/\n/g, '\n    ')},\n  },\n`)
    .join('');
  return (
    `${GENERATED_HEADER}\n` +
    '/** An earlier writer schema of an envelope; its file is named <Envelope>.<fingerprint>.avsc. */\n' +
    'export interface AvroHistorySource {\n' +
    '  /** File name under schemas/avro/history. */\n' +
    '  readonly file: string;\n' +
    '  readonly schema: unknown;\n' +
    '}\n\n' +
    `export const avroHistory: readonly AvroHistorySource[] = [\n${entries}];\n`
  );
}

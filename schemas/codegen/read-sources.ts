// Reads the .avsc files under schemas/avro and parses them the way the codec will: one shared
// avsc registry, so a named type (TaskSpec, Backoff, ...) is defined once and referenced by name.
// The files are returned in dependency order, which the generated bundle keeps, so the runtime
// can parse them in one pass without reading the file system (dist/ has no .avsc files).
import { readdir, readFile } from 'node:fs/promises';
import avro from 'avsc';
import type { Schema, Type } from 'avsc';

export interface ParsedSource {
  /** Path under schemas/avro, with forward slashes. */
  readonly file: string;
  /** Top-level files (not under common/) are topic envelopes. */
  readonly envelope: boolean;
  readonly schema: unknown;
  readonly type: Type;
}

const UNDEFINED_NAME = /^undefined type name/;

async function listAvsc(dir: URL, prefix: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.avsc'))
    .map((entry) => prefix + entry.name)
    .sort();
}

export async function readAvroSources(avroDir: URL): Promise<ParsedSource[]> {
  const files = [...(await listAvsc(new URL('common/', avroDir), 'common/')), ...(await listAvsc(avroDir, ''))];
  const pending = await Promise.all(
    files.map(async (file) => ({ file, schema: JSON.parse(await readFile(new URL(file, avroDir), 'utf8')) as unknown })),
  );
  // Parse what can be parsed, retry what references a name defined later. Each try works on a
  // copy of the registry because avsc registers names before it fails on a later reference.
  const registry: Record<string, Type> = {};
  const parsed: ParsedSource[] = [];
  let round = pending;
  while (round.length > 0) {
    const deferred: typeof pending = [];
    let lastError: unknown;
    for (const source of round) {
      const attempt = { ...registry };
      try {
        const type = avro.Type.forSchema(source.schema as Schema, { registry: attempt, wrapUnions: 'auto' });
        Object.assign(registry, attempt);
        parsed.push({ ...source, envelope: !source.file.includes('/'), type });
      } catch (error) {
        if (!(error instanceof Error) || !UNDEFINED_NAME.test(error.message)) {
          throw new Error(`schemas/avro/${source.file}: ${String(error)}`, { cause: error });
        }
        deferred.push(source);
        lastError = error;
      }
    }
    if (deferred.length === round.length) {
      throw new Error(`schemas/avro: ${deferred.map((s) => s.file).join(', ')}: ${String(lastError)}`);
    }
    round = deferred;
  }
  return parsed;
}

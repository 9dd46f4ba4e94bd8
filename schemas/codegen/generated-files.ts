// What the generator writes, as data: the drift test compares it with the files on disk.
import { readAvroSources } from './read-sources.js';
import { readAvroHistory, renderHistory } from './render-history.js';
import { renderSources } from './render-sources.js';
import { renderTypes } from './render-types.js';

/** Generated file contents keyed by their path under schemas/. */
export async function renderGeneratedFiles(schemasDir: URL): Promise<Map<string, string>> {
  const sources = await readAvroSources(new URL('avro/', schemasDir));
  const history = await readAvroHistory(new URL('avro/history/', schemasDir));
  return new Map([
    ['generated/types.ts', renderTypes(sources)],
    ['generated/avro-sources.ts', renderSources(sources)],
    ['generated/avro-history.ts', renderHistory(history)],
  ]);
}

// Regenerates schemas/generated/ from schemas/avro: `npx tsx schemas/codegen/generate.ts`.
// Commit the result; test/unit/schemas/generated-drift.test.ts fails when it is stale.
import { mkdir, writeFile } from 'node:fs/promises';
import { renderGeneratedFiles } from './generated-files.js';

const schemasDir = new URL('../', import.meta.url);
const files = await renderGeneratedFiles(schemasDir);
await mkdir(new URL('generated/', schemasDir), { recursive: true });
for (const [path, content] of files) {
  await writeFile(new URL(path, schemasDir), content);
  console.log(`wrote schemas/${path}`);
}

// Where the built console (npm run build → dist/ui) lies, found from this module's own
// location so it works from the sources (api/, run by tsx or vitest) and from the build
// (dist/api/) alike, wherever the package is installed.
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function defaultConsoleRoot(moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const parent = dirname(here);
  // dist/api/ → dist/ui; api/ → dist/ui beside it.
  return basename(parent) === 'dist' ? join(parent, 'ui') : join(parent, 'dist', 'ui');
}

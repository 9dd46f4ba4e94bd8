// Makes `npm start` and `npm test` work on a fresh clone: installs the locked
// dependencies when node_modules is missing or older than package-lock.json.
// Plain JavaScript with no imports beyond Node itself, because it runs before them.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const installed = 'node_modules/.package-lock.json';
const stale = !existsSync(installed) || statSync('package-lock.json').mtimeMs > statSync(installed).mtimeMs;
if (stale) {
  process.stderr.write('stackl: installing dependencies (npm ci)\n');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

// The web console's bundle: Preact and htm (tagged templates, so no JSX and no plugin),
// built into dist/ui and served by the API under /ui.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/ui/',
  // No public/ folder: every file the console needs goes through the bundle.
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});

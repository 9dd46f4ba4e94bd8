// Where the API looks for the built console by default, from the sources and from the build.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultConsoleRoot } from '../../../api/console-root.js';
import { apiOptionsFromEnv } from '../../../api/options.js';

const pkg = join('/', 'somewhere', 'stackl');
const moduleAt = (...parts: string[]) => pathToFileURL(join(pkg, ...parts)).href;

describe('the console root', () => {
  it("is the package's dist/ui, whether the API runs from its sources or from its build", () => {
    expect(defaultConsoleRoot(moduleAt('api', 'console-root.ts'))).toBe(join(pkg, 'dist', 'ui'));
    expect(defaultConsoleRoot(moduleAt('dist', 'api', 'console-root.js'))).toBe(join(pkg, 'dist', 'ui'));
  });

  it('is set by STACKL_API_CONSOLE_ROOT, and the live poll by STACKL_API_LIVE_POLL_MS', () => {
    expect(apiOptionsFromEnv({ STACKL_API_CONSOLE_ROOT: 'ui-build', STACKL_API_LIVE_POLL_MS: '250' })).toMatchObject({ consoleRoot: 'ui-build', livePollMs: 250 });
    expect(() => apiOptionsFromEnv({ STACKL_API_LIVE_POLL_MS: '10' })).toThrow(/STACKL_API_LIVE_POLL_MS/);
  });
});

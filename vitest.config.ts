import { defineConfig } from 'vitest/config';

// Two tiers: pure unit tests, and integration tests against the real services the
// global setup reaches (or brings up with deploy/local) on 127.0.0.1.
export default defineConfig({
  test: {
    // The JSON report lets CI print one closing "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: '.stackl/test-results.json' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 240_000,
          // Two cores: more parallel files only queue behind one broker.
          pool: 'forks',
          maxWorkers: 2,
          // Runs after the unit project (which may use every core).
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

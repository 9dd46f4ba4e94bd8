import { defineConfig } from 'vitest/config';

// `npm run test:overload`, apart from `npm test`: it runs the built CLI's roles as
// processes on the local stack and loads them to twice what they sustain for two
// minutes, so it needs the machine to itself (one file, nothing beside it).
export default defineConfig({
  test: {
    name: 'overload',
    include: ['test/overload/**/*.test.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.stackl/overload-results.json' },
    testTimeout: 1_200_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});

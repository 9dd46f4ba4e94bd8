import { defineConfig } from 'vitest/config';

// `npm run test:cluster`, apart from `npm test`: every file starts Kafka nodes of its own
// (a SASL_SSL broker, a 3-node KRaft cluster) on free ports and runs the built CLI, so
// one file at a time: two cores cannot start three JVMs and run another suite at once.
export default defineConfig({
  test: {
    name: 'cluster',
    include: ['test/cluster/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.stackl/cluster-results.json' },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});

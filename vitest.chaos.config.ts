import { defineConfig } from 'vitest/config';

// The chaos suite (`npm run test:chaos`) apart from `npm test`: it brings a stack of
// its own (Kafka, PostgreSQL, Redis, and RabbitMQ on its channel; PostgreSQL and RabbitMQ
// only with CHAOS_BROKER=custom; on free ports) and runs
// the built CLI as processes.
export default defineConfig({
  test: {
    name: 'chaos',
    include: ['test/chaos/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.stackl/chaos-results.json' },
    testTimeout: 60_000,
    hookTimeout: 3_600_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});

// `npm run bench [-- name …]`: runs the named benchmarks (all by default), prints one
// JSON document per benchmark on stdout, and writes them to bench/results/. Each names
// the commit, versions, settings and load it was taken with (provenance.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { apiBenchmarks } from './api-latency.js';
import { apiSubmitBenchmarks } from './api-submit.js';
import { brokerBenchmarks } from './broker.js';
import { brokersBenchmarks } from './brokers.js';
import { bullmqBenchmarks } from './bullmq-peer.js';
import { comparisonBenchmarks } from './e2e-vs-bullmq.js';
import { ceilingBenchmarks } from './kafka-ceiling.js';
import { probeBenchmarks } from './probe-e2e.js';
import { kindValidationBenchmarks } from './kind-validation.js';
import { liveRssBenchmarks } from './live-rss.js';
import { loadAverage, provenance } from './provenance.js';
import { projectionBenchmarks } from './projection.js';
import { recoveryBenchmarks } from './recovery.js';
import { roleRssBenchmarks } from './role-rss.js';
import { scaleOutBenchmarks } from './scale-out.js';
import { steadyStateBenchmarks } from './steady-state.js';
import { timeoutBenchmarks } from './timeouts-100k.js';

type Benchmark = () => Promise<Record<string, unknown>>;

const benchmarks: Record<string, Benchmark> = {
  ...brokerBenchmarks,
  ...probeBenchmarks,
  ...projectionBenchmarks,
  ...apiBenchmarks,
  ...apiSubmitBenchmarks,
  ...bullmqBenchmarks,
  ...comparisonBenchmarks,
  ...brokersBenchmarks,
  ...ceilingBenchmarks,
  ...steadyStateBenchmarks,
  ...timeoutBenchmarks,
  ...recoveryBenchmarks,
  ...roleRssBenchmarks,
  ...liveRssBenchmarks,
  ...scaleOutBenchmarks,
  ...kindValidationBenchmarks,
};

const requested = process.argv.slice(2);
const names = requested.length > 0 ? requested : Object.keys(benchmarks);
const unknown = names.filter((n) => !(n in benchmarks));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}\n`);
  process.exit(2);
}

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
mkdirSync('bench/results', { recursive: true });
for (const name of names) {
  const began = Date.now();
  const source = await provenance();
  const loadAtStart = loadAverage();
  const figures = await (benchmarks[name] as Benchmark)();
  const result = { benchmark: name, machine, provenance: source, loadAverage: { start: loadAtStart, end: loadAverage() }, startedAt: new Date(began).toISOString(), ...figures, elapsedMs: Date.now() - began };
  const text = JSON.stringify(result, null, 2);
  process.stdout.write(`${text}\n`);
  writeFileSync(join('bench/results', `${name}-${began}.json`), `${text}\n`);
}
process.exit(0);

// GET /tasks/:id over real HTTP while the system works: broker, worker, projector and
// API in this process; a stream of probe submissions keeps them busy while readers
// fetch random known tasks. Reports read latency p50/p99 and the read rate.
import { loadConfig } from '../core/config.js';
import { startLifecycleApp } from '../processors/broker/kafka/lifecycle-app.js';
import { startProjector } from '../processors/projection/index.js';
import { startApi } from '../api/server.js';
import { startWorker } from '../workers/start-worker.js';
import { progress, summarize } from './stats.js';

async function apiLatency(): Promise<Record<string, unknown>> {
  const seedTasks = Number(process.env.BENCH_SEED_TASKS ?? 2_000);
  const readers = Number(process.env.BENCH_READERS ?? 16);
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 20_000);
  const submitRate = Number(process.env.BENCH_SUBMIT_RATE ?? 200);
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.api.${Date.now().toString(36)}.`, STACKL_DB_SCHEMA: `bench_api_${Date.now().toString(36)}` });
  const broker = await startLifecycleApp(config, { clientId: 'bench-broker' });
  const worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: '16' });
  const projector = await startProjector(config);
  const api = await startApi(config, { env: { STACKL_API_PORT: '0' } });
  const post = async () => {
    const response = await fetch(`${api.address}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } }) });
    return ((await response.json()) as { id: string }).id;
  };

  const ids: string[] = [];
  for (let i = 0; i < seedTasks; i += 50) ids.push(...(await Promise.all(Array.from({ length: 50 }, post))));
  progress(`seeded ${ids.length} tasks; reading for ${durationMs} ms with ${readers} readers while submitting ${submitRate}/s`);

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const until = Date.now() + durationMs;
  const submitter = (async () => {
    while (Date.now() < until) {
      const began = Date.now();
      ids.push(...(await Promise.all(Array.from({ length: Math.max(1, submitRate / 10) }, post))));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - began))));
    }
  })();
  const reader = async () => {
    while (Date.now() < until) {
      const id = ids[Math.floor(Math.random() * ids.length)];
      const began = performance.now();
      const response = await fetch(`${api.address}/tasks/${id}`);
      await response.arrayBuffer();
      latencies.push(performance.now() - began);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  };
  await Promise.all([submitter, ...Array.from({ length: readers }, reader)]);

  await api.stop();
  await projector.stop();
  await worker.stop();
  await broker.stop();
  const summary = summarize(latencies);
  return {
    readers,
    submitRatePerSecond: submitRate,
    durationMs,
    reads: latencies.length,
    readsPerSecond: Math.round((latencies.length / durationMs) * 1000),
    latencyMs: { p50: round(summary.p50), p99: round(summary.p99), max: round(summary.max), mean: summary.mean },
    statuses: Object.fromEntries(statuses),
    note: 'HTTP over loopback with keep-alive; all roles and the load generator share this process and 2 cores with Kafka and PostgreSQL',
  };
}

const round = (value: number) => Math.round(value * 10) / 10;

export const apiBenchmarks = { 'api-latency': apiLatency };

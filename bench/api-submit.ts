// api-submit: how many POST /tasks the API accepts per second, each answered only once
// Kafka has the request (acks=all). BENCH_API_CLIENTS (32) keep-alive clients post one
// probe task after another for BENCH_DURATION_MS (10 s); the API and the clients share
// this process, and nothing processes the tasks (the figure is the API's own). Reports
// accepted/s and request latency; honours BENCH_RUNS.
import { loadConfig } from '../core/config.js';
import { startApi } from '../api/server.js';
import { ensureTopics } from '../topics/admin.js';
import { catalogueFor } from '../topics/catalogue.js';
import { createKafka } from '../topics/kafka.js';
import { repeatRuns, runsFromEnv } from './repeat.js';
import { envInt, summarize } from './stats.js';

const BODY = JSON.stringify({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });

async function oneRun(clients: number, durationMs: number) {
  const stamp = Date.now().toString(36);
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.submit.${stamp}.`, STACKL_DB_SCHEMA: `bench_submit_${stamp}` });
  const admin = createKafka(config, 'bench-submit-admin').admin();
  await admin.connect();
  await ensureTopics(admin, catalogueFor(config));
  await admin.disconnect();
  const api = await startApi(config, { env: { STACKL_API_PORT: '0' } });
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const post = async () => {
    const began = performance.now();
    const response = await fetch(`${api.address}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    await response.arrayBuffer();
    latencies.push(performance.now() - began);
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  };
  await Promise.all(Array.from({ length: clients }, post)); // connects the producer and warms the pool
  latencies.length = 0;
  statuses.clear();
  const began = Date.now();
  const until = began + durationMs;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < until) await post();
  }));
  const elapsedMs = Date.now() - began;
  await api.stop();
  const accepted = statuses.get(202) ?? 0;
  if (accepted === 0) throw new Error(`no submission was accepted: ${JSON.stringify(Object.fromEntries(statuses))}`);
  const latency = summarize(latencies);
  return {
    figures: { acceptedPerSecond: Math.round((accepted / elapsedMs) * 1000), p50Ms: round(latency.p50), p99Ms: round(latency.p99) },
    detail: { requests: latencies.length, statuses: Object.fromEntries(statuses), latencyMs: { p50: round(latency.p50), p99: round(latency.p99), max: round(latency.max) } },
  };
}

async function apiSubmit(): Promise<Record<string, unknown>> {
  const clients = envInt('BENCH_API_CLIENTS', 32);
  const durationMs = envInt('BENCH_DURATION_MS', 10_000);
  const repeated = await repeatRuns('api-submit', runsFromEnv(), () => oneRun(clients, durationMs));
  return { clients, durationMs, ...repeated, note: 'POST /tasks over loopback with keep-alive, answered 202 once Kafka acknowledged the request; clients and API share this process and 2 cores with Kafka' };
}

const round = (value: number) => Math.round(value * 10) / 10;

export const apiSubmitBenchmarks = { 'api-submit': apiSubmit };

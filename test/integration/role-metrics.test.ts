// Metrics from every role: a worker run alone as its own process serves /metrics and
// /healthz on STACKL_METRICS_PORT with its work counted by kind, order and outcome, and
// the broker running in this process counts its transactions, commits and records in the
// process registry that `stackl all` serves on the API's /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { metricsRegistry } from '../../core/metrics.js';
import { KafkaBrokerClient } from '../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../processors/broker/kafka/lifecycle-app.js';
import { topicNames } from '../../topics/names.js';
import { EventLog } from '../support/event-log.js';
import { testKafka } from '../support/kafka.js';
import { uniquePrefix } from '../support/names.js';
import { freePort } from '../support/ports.js';
import { RoleProcess } from '../support/role-process.js';

const prefix = uniquePrefix('role-metrics');
const topics = topicNames(prefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, 3);
const log = new EventLog(kafka, topics.events);
let broker: RunningLifecycleApp;
let worker: RoleProcess;
let metricsUrl = '';

beforeAll(async () => {
  broker = await startLifecycleApp(loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: prefix, STACKL_PARTITIONS: '3' }), { tickIntervalMs: 20 });
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}`;
  worker = new RoleProcess('worker', { STACKL_TOPIC_PREFIX: prefix, STACKL_PARTITIONS: '3', STACKL_METRICS_PORT: String(port), STACKL_LOG_LEVEL: 'info' }, /metrics on http/);
  await worker.start();
  await log.start();
}, 120_000);
afterAll(async () => {
  await worker?.kill('SIGTERM');
  await Promise.all([log.stop(), client.close()]);
  await broker.stop();
});

describe('role metrics', () => {
  it('a worker alone serves its own /metrics and /healthz, its work counted by kind, order and outcome', { timeout: 60_000 }, async () => {
    const ok = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
    const bad = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'fail' } });
    await log.waitFor(ok.taskId, (t) => t.includes('TaskCompleted'));
    await log.waitFor(bad.taskId, (t) => t.includes('RollbackSucceeded'));
    expect(await (await fetch(`${metricsUrl}/healthz`)).json()).toEqual({ status: 'ok', role: 'worker' });
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    const count = (labels: Record<string, string>) => sample(text, 'stackl_worker_work_duration_seconds_count', { ...labels, kind: 'probe', role: 'worker' });
    expect(count({ order: 'attempt', outcome: 'succeeded' })).toBe(1);
    expect(count({ order: 'attempt', outcome: 'failed' })).toBe(1);
    expect(count({ order: 'rollback', outcome: 'succeeded' })).toBe(1);
    expect(sample(text, 'stackl_worker_in_flight', { role: 'worker' })).toBe(0);
    expect(text).toMatch(/process_resident_memory_bytes\{role="worker"\} \d+/);
    expect((await fetch(`${metricsUrl}/nowhere`)).status).toBe(404);
  });

  it('the broker counts its transactions, commit latency, records in and out by topic, and owned partitions', async () => {
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/stackl_stream_transactions_total\{app="lifecycle",outcome="committed"\} [1-9]/);
    expect(text).toMatch(/stackl_stream_commit_duration_seconds_count\{app="lifecycle"\} [1-9]/);
    expect(text).toMatch(/stackl_stream_records_in_total\{app="lifecycle",topic="requests"\} [1-9]/);
    expect(text).toMatch(/stackl_stream_records_in_total\{app="lifecycle",topic="results"\} [1-9]/);
    expect(text).toMatch(/stackl_stream_records_out_total\{app="lifecycle",topic="events"\} [1-9]/);
    expect(text).toMatch(/stackl_stream_records_out_total\{app="lifecycle",topic="dispatch"\} [1-9]/);
    expect(text).toMatch(/stackl_stream_records_out_total\{app="lifecycle",topic="changelog"\} [1-9]/);
    expect(text).toContain('stackl_stream_owned_partitions{app="lifecycle"} 3');
    expect(text).toContain('stackl_stream_partitions{app="lifecycle"} 3');
    expect(text).toMatch(/stackl_stream_restore_duration_seconds_count\{app="lifecycle"\} [1-9]/);
  });
});

/** The value of the sample of `name` carrying every one of `labels` (Prometheus text; label order is free). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((pair) => l.includes(pair)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

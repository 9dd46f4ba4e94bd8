// The process's Prometheus metrics, through prom-client: one registry every role of the
// process registers in (so `stackl all` serves them all on the API's /metrics, and a role
// run alone on STACKL_METRICS_PORT), with Node's process metrics and a `role` label.
import client from 'prom-client';

export const metricsRegistry = new client.Registry();
let processMetricsOn = false;

/** Process metrics (CPU, memory, event loop lag, GC) once per process, labelled with the role. */
export function startProcessMetrics(role: string): void {
  if (processMetricsOn) return;
  processMetricsOn = true;
  metricsRegistry.setDefaultLabels({ role });
  client.collectDefaultMetrics({ register: metricsRegistry });
}

/** Seconds since `startedAt` (a performance.now() reading), for histograms. */
export function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}

/** Latency buckets from 1 ms to 30 s: broker commits, attempts, projection batches. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export { client as promClient };

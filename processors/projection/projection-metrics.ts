// What the projector tells Prometheus: each batch's size and the time to apply it in
// PostgreSQL (one transaction), and events applied. Its lag is read where the log's end is
// known: the API's /metrics (stackl_projection_lag_events).
import { LATENCY_BUCKETS, metricsRegistry, promClient, secondsSince } from '../../core/metrics.js';

const batchSize = new promClient.Histogram({
  name: 'stackl_projection_batch_events',
  help: 'Events per batch the projector applied in one transaction.',
  buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000],
  registers: [metricsRegistry],
});
const applySeconds = new promClient.Histogram({ name: 'stackl_projection_apply_duration_seconds', help: 'Time to apply one batch to PostgreSQL.', buckets: LATENCY_BUCKETS, registers: [metricsRegistry] });
const applied = new promClient.Counter({ name: 'stackl_projection_events_applied_total', help: 'Events applied to the projection (duplicates and stale ones not counted).', registers: [metricsRegistry] });

/** Measures one batch write: `write` resolves with how many events it applied. */
export async function measuredBatch<T extends { applied: number }>(events: number, write: () => Promise<T>): Promise<T> {
  const began = performance.now();
  const outcome = await write();
  batchSize.observe(events);
  applySeconds.observe(secondsSince(began));
  applied.inc(outcome.applied);
  return outcome;
}

// What workers tell Prometheus: work in flight, how long each order's work took by kind,
// order type and outcome, heartbeats sent, orders skipped (already past their deadline), and
// orders of other pools' kinds passed over.
import { LATENCY_BUCKETS, metricsRegistry, promClient } from '../core/metrics.js';

export const workerMetrics = {
  inFlight: new promClient.Gauge({ name: 'stackl_worker_in_flight', help: 'Orders being worked on now (attempts and rollbacks).', registers: [metricsRegistry] }),
  workSeconds: new promClient.Histogram({
    name: 'stackl_worker_work_duration_seconds',
    help: 'Time a worker spent on one order, by kind, order (attempt or rollback) and outcome (succeeded, failed, or none: it ended without a result).',
    labelNames: ['kind', 'order', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [metricsRegistry],
  }),
  heartbeats: new promClient.Counter({ name: 'stackl_worker_heartbeats_total', help: 'Heartbeats sent for attempts that asked for them.', registers: [metricsRegistry] }),
  skipped: new promClient.Counter({ name: 'stackl_worker_skipped_orders_total', help: 'Orders not started: past their deadline, or too close to it to finish.', registers: [metricsRegistry] }),
  notServed: new promClient.Counter({ name: 'stackl_worker_orders_not_served_total', help: "Orders of kinds another pool serves, passed over (every pool reads every order).", registers: [metricsRegistry] }),
};

// What agents tell Prometheus: jobs applied by status and their duration (a repeated job
// answered from memory is counted under `repeated`).
import { LATENCY_BUCKETS, metricsRegistry, promClient } from '../core/metrics.js';

export const agentMetrics = {
  jobs: new promClient.Counter({ name: 'stackl_agent_jobs_total', help: 'Agent jobs answered, by agent, operation and status (repeated: answered again from memory).', labelNames: ['agent', 'op', 'status'], registers: [metricsRegistry] }),
  jobSeconds: new promClient.Histogram({ name: 'stackl_agent_job_duration_seconds', help: 'Time to apply one agent job.', labelNames: ['agent', 'op'], buckets: LATENCY_BUCKETS, registers: [metricsRegistry] }),
};

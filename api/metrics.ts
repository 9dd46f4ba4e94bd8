// The API's Prometheus metrics, through prom-client, in a registry of this API instance
// (tests run several in one process): HTTP counts and latencies, and gauges read at scrape
// time (projection lag, tasks by status, admission). /metrics serves them together with
// the process registry (core/metrics.ts), which holds every role running in this process:
// under `stackl all`, the broker's, the worker's, the projector's, the relay's and the
// agent's metrics too.
import { metricsRegistry, promClient } from '../core/metrics.js';

/** Upper bounds of the latency buckets, in seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What /metrics reads at scrape time; a source that fails leaves its family out. */
export interface ScrapeSources {
  lag(): Promise<Map<number, number>>;
  countByStatus(): Promise<Map<string, number>>;
  /** Commands waiting for the broker's log to take them. */
  pending(): number;
  shed(): Record<string, number>;
  backlog(): { requests: number; orders: number } | undefined;
}

export class ApiMetrics {
  readonly registry = new promClient.Registry();
  private readonly requests: promClient.Counter<'method' | 'route' | 'status'>;
  private readonly latency: promClient.Histogram<'method' | 'route' | 'status'>;
  private sources: ScrapeSources | undefined;

  constructor() {
    const registers = [this.registry];
    this.requests = new promClient.Counter({ name: 'stackl_http_requests_total', help: 'HTTP requests answered, by method, route and status.', labelNames: ['method', 'route', 'status'], registers });
    this.latency = new promClient.Histogram({ name: 'stackl_http_request_duration_seconds', help: 'Time to answer HTTP requests.', labelNames: ['method', 'route', 'status'], buckets: BUCKETS, registers });
  }

  /** Where the scrape-time gauges read from (set once the API's context exists). */
  readFrom(sources: ScrapeSources): void {
    this.sources = sources;
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  /** This API's families (its gauges read now), then the process's (roles and Node's own); no family is in both. */
  async render(): Promise<string> {
    await this.readGauges();
    return `${await this.registry.metrics()}\n${await metricsRegistry.metrics()}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private readonly gauges = {
    lag: new promClient.Gauge({ name: 'stackl_projection_lag_events', help: 'Events in the log the projection has yet to apply.', labelNames: ['partition'], registers: [this.registry] }),
    tasks: new promClient.Gauge({ name: 'stackl_tasks', help: 'Tasks in the projection by status.', labelNames: ['status'], registers: [this.registry] }),
    pending: new promClient.Gauge({ name: 'stackl_api_pending_commands', help: 'Commands waiting for the broker to acknowledge them.', registers: [this.registry] }),
    shed: new promClient.Counter({ name: 'stackl_api_shed_total', help: 'Commands refused with 503 OVERLOADED since start, by reason.', labelNames: ['reason'], registers: [this.registry] }),
    backlog: new promClient.Gauge({ name: 'stackl_api_backlog', help: 'Work waiting as the API last read it: requests for the broker, orders for a worker.', labelNames: ['stage'], registers: [this.registry] }),
    up: new promClient.Gauge({ name: 'stackl_api_scrape_source_up', help: 'Whether each scrape-time source answered.', labelNames: ['source'], registers: [this.registry] }),
  };

  /** Scrape-time gauges: a source that fails leaves its family out and says so in stackl_api_scrape_source_up. */
  private async readGauges(): Promise<void> {
    const sources = this.sources;
    if (sources === undefined) return;
    const [lag, counts] = await Promise.allSettled([sources.lag(), sources.countByStatus()]);
    for (const gauge of Object.values(this.gauges)) gauge.reset();
    if (lag.status === 'fulfilled') for (const [partition, n] of lag.value) this.gauges.lag.set({ partition: String(partition) }, n);
    if (counts.status === 'fulfilled') for (const [status, n] of counts.value) this.gauges.tasks.set({ status }, n);
    this.gauges.pending.set(sources.pending());
    // A running total kept by the admission: the counter is set to it (reset, then one increment).
    for (const [reason, n] of Object.entries(sources.shed())) this.gauges.shed.inc({ reason }, n);
    const backlog = sources.backlog();
    if (backlog !== undefined) {
      this.gauges.backlog.set({ stage: 'requests' }, backlog.requests);
      this.gauges.backlog.set({ stage: 'orders' }, backlog.orders);
    }
    this.gauges.up.set({ source: 'projection_lag' }, lag.status === 'fulfilled' ? 1 : 0);
    this.gauges.up.set({ source: 'tasks' }, counts.status === 'fulfilled' ? 1 : 0);
  }
}

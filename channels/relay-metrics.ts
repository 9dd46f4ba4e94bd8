// What relays (redis and rabbitmq, for either broker) tell Prometheus: their running totals,
// read from every live relay at scrape time.
import { metricsRegistry, promClient } from '../core/metrics.js';

const relays = new Map<string, () => Record<string, number>>();

new promClient.Counter({
  name: 'stackl_relay_total',
  help: 'Running totals of the relays between a broker and its channel, by relay and what (ordersSent, resultsRelayed, ordersRequeued, redisRestarts, deadLettered).',
  labelNames: ['relay', 'what'],
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const [relay, stats] of relays) for (const [what, value] of Object.entries(stats())) this.inc({ relay, what }, value);
  },
});

/** Reads the relay's totals at every scrape until the returned function is called. */
export function watchRelay(relay: string, stats: () => Record<string, number>): () => void {
  relays.set(relay, stats);
  return () => relays.delete(relay);
}

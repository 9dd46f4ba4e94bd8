// What the stream runtime tells Prometheus, per app (the lifecycle processor is the one app
// today): transactions by outcome and their commit latency, records in and out by topic,
// restores, and, read at scrape time from every running app, owned partitions, pending
// deadlines, live keys and dead letters.
import { LATENCY_BUCKETS, metricsRegistry, promClient } from '../../core/metrics.js';
import type { StreamAppStats } from './stream-app.js';

const transactions = new promClient.Counter({
  name: 'stackl_stream_transactions_total',
  help: 'Transactions of the stream runtime by outcome: committed, or fenced, unknown, transient, refused (each retried or handled as its kind says).',
  labelNames: ['app', 'outcome'],
  registers: [metricsRegistry],
});
const commitSeconds = new promClient.Histogram({
  name: 'stackl_stream_commit_duration_seconds',
  help: 'Time to commit one transaction (changelog, outputs and input offsets together).',
  labelNames: ['app'],
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});
const recordsIn = new promClient.Counter({ name: 'stackl_stream_records_in_total', help: 'Input records committed, by topic.', labelNames: ['app', 'topic'], registers: [metricsRegistry] });
const recordsOut = new promClient.Counter({ name: 'stackl_stream_records_out_total', help: 'Records written by committed transactions, by topic (replies to caller-named topics count as "reply").', labelNames: ['app', 'topic'], registers: [metricsRegistry] });
const restoreSeconds = new promClient.Histogram({
  name: 'stackl_stream_restore_duration_seconds',
  help: 'Time from taking partitions to having their state restored.',
  labelNames: ['app'],
  buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers: [metricsRegistry],
});

/** Live apps, read at scrape time: their stats, and how many partitions their topics have. */
const apps = new Map<string, { stats: () => StreamAppStats; partitions: number }>();

function gauge(name: string, help: string, read: (stats: StreamAppStats, partitions: number) => number): void {
  new promClient.Gauge({
    name,
    help,
    labelNames: ['app'],
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const [app, { stats, partitions }] of apps) this.set({ app }, read(stats(), partitions));
    },
  });
}
gauge('stackl_stream_owned_partitions', 'Partitions this process owns.', (s) => s.ownedPartitions.length);
gauge('stackl_stream_pending_deadlines', 'Deadlines waiting in the timer indexes of the owned partitions.', (s) => s.deadlineEntries);
gauge('stackl_stream_live_keys', 'Keys (tasks) held in the owned partitions’ tables.', (s) => s.liveKeys);
gauge('stackl_stream_dead_letters', 'Records dead-lettered since start.', (s) => s.deadLettered);
gauge('stackl_stream_partitions', 'Partitions of the app’s input topics, owned or not: the sum of owned partitions over every process should equal it.', (_s, partitions) => partitions);

export interface StreamMetrics {
  committed(outcome: string, seconds: number, outputs: { topic: string }[]): void;
  consumed(topic: string, count: number): void;
  restored(seconds: number): void;
}

/** The metrics of one app; `topicLabel` keeps label values bounded (caller-named topics become one value). */
export function streamMetrics(app: string, topicLabel: (topic: string) => string): StreamMetrics {
  return {
    committed(outcome, seconds, outputs) {
      transactions.inc({ app, outcome });
      if (outcome !== 'committed') return;
      commitSeconds.observe({ app }, seconds);
      const byTopic = new Map<string, number>();
      for (const { topic } of outputs) byTopic.set(topicLabel(topic), (byTopic.get(topicLabel(topic)) ?? 0) + 1);
      for (const [topic, n] of byTopic) recordsOut.inc({ app, topic }, n);
    },
    consumed(topic, count) {
      recordsIn.inc({ app, topic: topicLabel(topic) }, count);
    },
    restored(seconds) {
      restoreSeconds.observe({ app }, seconds);
    },
  };
}

/** Reads the app's gauges at every scrape until `unwatch` is called. */
export function watchApp(app: string, partitions: number, stats: () => StreamAppStats): () => void {
  apps.set(app, { stats, partitions });
  return () => apps.delete(app);
}

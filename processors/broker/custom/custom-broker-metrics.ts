// What the custom broker tells Prometheus, read from every live broker at scrape time:
// partitions owned against partitions configured (one without an owner decides nothing),
// inputs and deadlines decided, and decision steps that failed (and were tried again).
import { metricsRegistry, promClient } from '../../../core/metrics.js';
import type { CustomBrokerStats } from './custom-broker.js';

const brokers = new Map<string, { stats: () => CustomBrokerStats; partitions: number }>();

function family(kind: 'Gauge' | 'Counter', name: string, help: string, read: (stats: CustomBrokerStats, partitions: number) => number): void {
  const Metric = promClient[kind];
  new Metric({
    name,
    help,
    labelNames: ['member'],
    registers: [metricsRegistry],
    collect(this: { reset(): void; inc?(labels: object, v: number): void; set?(labels: object, v: number): void }) {
      this.reset();
      for (const [member, { stats, partitions }] of brokers) {
        const value = read(stats(), partitions);
        if (this.set) this.set({ member }, value);
        else this.inc?.({ member }, value);
      }
    },
  });
}

family('Gauge', 'stackl_custom_broker_owned_partitions', 'Partitions this custom broker holds the lock of.', (s) => s.ownedPartitions.length);
family('Gauge', 'stackl_custom_broker_partitions', 'Partitions of the deployment: the sum of owned partitions over every broker should equal it.', (_s, p) => p);
family('Counter', 'stackl_custom_broker_decided_total', 'Inputs and deadlines decided.', (s) => s.decided);
family('Counter', 'stackl_custom_broker_failed_steps_total', 'Decision steps that failed and were tried again (or gave their partition up).', (s) => s.failedSteps);

export function watchCustomBroker(member: string, partitions: number, stats: () => CustomBrokerStats): () => void {
  brokers.set(member, { stats, partitions });
  return () => brokers.delete(member);
}

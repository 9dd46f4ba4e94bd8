// One transaction of one partition: the staged table writes as changelog records, the
// outputs and the input offsets, committed together; memory moves only after the commit.
// The answer says what the caller must do next, so no error escapes as a surprise.
import type { Logger } from '../../core/log.js';
import { isRefusal, isTransient } from './failures.js';
import { CommitOutcomeUnknownError, FencedError } from './partition-producer.js';
import type { PartitionWorker } from './partition-worker.js';
import { retiredMarker } from './retired-keys.js';
import type { TransactionScope } from './transaction-scope.js';
import type { OutputRecord, TableSerde } from './types.js';
import type { StreamMetrics } from './stream-metrics.js';
import { secondsSince } from '../../core/metrics.js';

export type CommitResult =
  | { ok: true }
  /** A newer owner took the partition: drop it. */
  | { ok: false; kind: 'fenced'; error: unknown }
  /** It may or may not have committed: memory cannot be trusted, rebuild from the log. */
  | { ok: false; kind: 'unknown'; error: unknown }
  /** Nothing committed; the same transaction may succeed later. */
  | { ok: false; kind: 'transient'; error: unknown }
  /** Nothing committed; Kafka will never take one of its records. */
  | { ok: false; kind: 'refused'; error: unknown };

export interface InputOffset {
  topic: string;
  partition: number;
  /** The next offset to read. */
  offset: string;
}

export interface CommitTarget<V> {
  changelogTopic: string;
  metrics?: StreamMetrics;
  serde: TableSerde<V>;
  log: Logger;
  /** Keep retired keys (the app has a retention window); otherwise a retire is a plain delete. */
  keepRetired: boolean;
}

export async function commitScope<V>(target: CommitTarget<V>, worker: PartitionWorker<V>, scope: TransactionScope<V>, offsets: InputOffset[]): Promise<CommitResult> {
  const records: OutputRecord[] = [];
  const retiring = new Map<string, number>();
  try {
    for (const [key, value] of scope.staged) {
      const retire = value === null && target.keepRetired && scope.retiring.has(key);
      if (retire) retiring.set(key, scope.now);
      const bytes = value === null ? (retire ? retiredMarker(scope.now) : null) : target.serde.encode(value);
      records.push({ topic: target.changelogTopic, partition: worker.partition, key, value: bytes });
    }
  } catch (error) {
    // A value the serde cannot encode is as final as one Kafka refuses.
    return { ok: false, kind: 'refused', error };
  }
  const written = [...records, ...scope.outputs];
  const began = performance.now();
  const failed = (kind: 'fenced' | 'unknown' | 'refused' | 'transient', error: unknown): CommitResult => {
    target.metrics?.committed(kind, 0, []);
    return { ok: false, kind, error };
  };
  try {
    await worker.producer.commit({ records: written, offsets });
  } catch (error) {
    if (error instanceof FencedError) return failed('fenced', error);
    // The commit may have reached the broker before the connection broke (seen in the
    // chaos suite during a Kafka restart); redoing the records from memory wrote events twice.
    if (error instanceof CommitOutcomeUnknownError) return failed('unknown', error);
    if (isRefusal(error)) return failed('refused', error);
    if (!isTransient(error)) target.log.warn('transaction failed with an unclassified error; retrying it as transient', { partition: worker.partition, error });
    return failed('transient', error);
  }
  target.metrics?.committed('committed', secondsSince(began), written);
  worker.table.apply(scope.staged, retiring);
  worker.lastCommitAt = Date.now();
  return { ok: true };
}

// Rebuilds partitions' tables from their compacted changelog before any input of
// those partitions is processed. kafkajs offers no manual assignment and its end
// offsets ignore transaction markers, so "the end" is made explicit: the new owner
// first commits a barrier record (a unique id) to each partition it restores, after
// its transactional producer fenced the previous owner; everything before the barrier
// is settled, and reading up to the barrier reads exactly the committed state.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { retiredAtOf } from './retired-keys.js';
import type { Staged } from './table.js';
import type { TableSerde } from './types.js';

/** Barrier records share one key per partition, so compaction keeps only the latest. */
export const BARRIER_KEY_PREFIX = '__stackl_barrier__';

export function barrierKey(partition: number): string {
  return `${BARRIER_KEY_PREFIX}/${partition}`;
}

export function newBarrierId(): string {
  return randomUUID();
}

export function isBarrierKey(key: Buffer | null): boolean {
  return key !== null && key.subarray(0, BARRIER_KEY_PREFIX.length).toString() === BARRIER_KEY_PREFIX;
}

export interface RestoreRequest {
  partition: number;
  barrierId: string;
}

export interface RestoreOptions<V> {
  kafka: Kafka;
  topic: string;
  groupId: string;
  serde: TableSerde<V>;
  requests: RestoreRequest[];
  /** Called while restoring, so the caller can keep its own consumer's session alive. */
  onProgress?: (partition: number, records: number) => Promise<void> | void;
  /** Give up when no record arrived for this long (a restore that makes progress never times out). */
  stallMs?: number;
}

/** A changelog record the serde could not read: skipped, its key restored as absent. */
export interface CorruptRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  error: unknown;
}

export interface Restored<V> {
  tables: Map<number, Staged<V>>;
  /** Per partition, the keys whose last record is a retire marker, and when they were retired. */
  retired: Map<number, Map<string, number>>;
  corrupt: CorruptRecord[];
}

/** Reads each requested partition up to its barrier; returns the surviving value of every key. */
export async function restorePartitions<V>(options: RestoreOptions<V>): Promise<Restored<V>> {
  const pending = new Map(options.requests.map((r) => [r.partition, r.barrierId]));
  const restored = new Map<number, Staged<V>>(options.requests.map((r) => [r.partition, new Map()]));
  const retired = new Map<number, Map<string, number>>(options.requests.map((r) => [r.partition, new Map()]));
  const corrupt: CorruptRecord[] = [];
  if (pending.size === 0) return { tables: restored, retired, corrupt };

  const stallMs = options.stallMs ?? 60_000;
  const consumer = options.kafka.consumer({ groupId: options.groupId, maxBytesPerPartition: 8 * 1024 * 1024, maxWaitTimeInMs: 100 });
  const paused = new Set<number>();
  let failure: unknown;
  let stallTimer: NodeJS.Timeout | undefined;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const stalled = () => reject(new Error(`restore of ${options.topic} partitions ${[...pending.keys()].join(',')} read nothing for ${stallMs} ms`));
      stallTimer = setTimeout(stalled, stallMs);
      // A consumer that crashed reads nothing more: fail now, so the caller retries at once.
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, heartbeat }) => {
            const target = restored.get(batch.partition);
            if (target === undefined || !pending.has(batch.partition)) {
              // Not a partition we restore (kafkajs cannot assign): stop fetching it.
              if (!paused.has(batch.partition)) {
                paused.add(batch.partition);
                consumer.pause([{ topic: options.topic, partitions: [batch.partition] }]);
              }
              return;
            }
            clearTimeout(stallTimer);
            stallTimer = setTimeout(stalled, stallMs);
            for (const message of batch.messages) {
              if (isBarrierKey(message.key)) {
                if (message.value?.toString() === pending.get(batch.partition)) pending.delete(batch.partition);
                continue;
              }
              const key = message.key?.toString() ?? '';
              const retiredAt = message.value === null ? undefined : retiredAtOf(message.value);
              // The last record of a key wins: a value, a tombstone, or a retire marker.
              if (retiredAt === undefined) retired.get(batch.partition)?.delete(key);
              else retired.get(batch.partition)?.set(key, retiredAt);
              target.set(key, message.value === null || retiredAt !== undefined ? null : decodeOrNote(options.serde, batch.partition, message, corrupt));
            }
            await options.onProgress?.(batch.partition, target.size);
            await heartbeat();
            if (!pending.has(batch.partition)) consumer.pause([{ topic: options.topic, partitions: [batch.partition] }]);
            if (pending.size === 0) resolve();
          },
        })
        .catch(reject);
    });
    await done;
  } catch (error) {
    failure = error;
  } finally {
    clearTimeout(stallTimer);
    await consumer.disconnect().catch(() => {});
  }
  if (failure !== undefined) throw failure;
  // Tombstones matter only while reading; the restored table holds live keys.
  for (const staged of restored.values()) {
    for (const [key, value] of staged) if (value === null) staged.delete(key);
  }
  return { tables: restored, retired, corrupt };
}

/** A value that does not decode must not stop the restore: its key restores as absent. */
function decodeOrNote<V>(serde: TableSerde<V>, partition: number, message: { offset: string; key: Buffer | null; value: Buffer | null }, corrupt: CorruptRecord[]): V | null {
  try {
    return serde.decode(message.value as Buffer);
  } catch (error) {
    corrupt.push({ partition, offset: message.offset, key: message.key, value: message.value, error });
    return null;
  }
}

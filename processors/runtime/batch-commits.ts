// Committing a chunk of input records, whatever Kafka answers: a transient failure is
// retried with backoff (the partition heartbeating meanwhile); a refusal splits the chunk
// until the record Kafka refuses stands alone, and that record walks down REFUSAL_STEPS
// until something of it fits; a fencing or an unknown outcome hands the worker back.
import type { KafkaMessage } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../core/log.js';
import { commitScope, type CommitResult, type CommitTarget, type InputOffset } from './commit.js';
import type { PartitionWorker } from './partition-worker.js';
import { inputRecord, processRecords, REFUSAL_STEPS, scopeAtStep, type ScopeSource } from './record-scopes.js';
import type { TransactionScope } from './transaction-scope.js';

export interface CommitHost<V> {
  scopes: ScopeSource<V>;
  target: CommitTarget<V>;
  log: Logger;
  counters: { records: number; transactions: number; retries: number };
  /** False when the worker is gone after this result (fenced, or rebuilt after an unknown outcome). */
  survived(worker: PartitionWorker<V>, result: CommitResult): boolean;
}

/** True while this batch's partition is still ours to commit. */
export type Ownership = () => boolean;

/** Longest pause between two tries of a transaction that failed for a transient reason. */
const MAX_RETRY_PAUSE_MS = 5_000;

/** One input topic's share of a transaction: its records, and the offset it commits through (markers included). */
export interface BatchPart {
  topic: string;
  messages: KafkaMessage[];
  through: string;
}

/**
 * Commits `messages` (through `through`, markers included) in one transaction; false when
 * the partition is no longer ours. A chunk Kafka refuses is split in halves, committed in
 * order, until the record at fault stands alone: a handful of transactions, where one per
 * record stalled a busy partition for seconds.
 */
function commitChunk<V>(host: CommitHost<V>, worker: PartitionWorker<V>, topic: string, messages: KafkaMessage[], through: string, owns: Ownership, heartbeat: () => Promise<void>): Promise<boolean> {
  return commitParts(host, worker, [{ topic, messages, through }], owns, heartbeat);
}

/**
 * Commits batches of one partition's input topics (one part per topic) in one transaction,
 * every topic's offset in it; false when the partition is no longer ours. When Kafka
 * refuses what they write, nothing committed: several parts go on one at a time, and a
 * part alone is split as commitChunk says.
 */
export async function commitParts<V>(host: CommitHost<V>, worker: PartitionWorker<V>, parts: BatchPart[], owns: Ownership, heartbeat: () => Promise<void>): Promise<boolean> {
  const records = parts.flatMap((part) => part.messages.map((m) => inputRecord(part.topic, worker.partition, m)));
  const offsets = parts.map((part) => ({ topic: part.topic, partition: worker.partition, offset: (BigInt(part.through) + 1n).toString() }));
  for (let failures = 0; ; ) {
    // Heartbeating while it runs: waiting for the partition's queue (a timer transaction
    // may hold it), processing thousands of records and committing them through a slow
    // network can outlast the group session, and a member that stops heartbeating loses
    // its partitions to a rebalance (a storm of them, when every restore is slow too).
    const result = await waitWithHeartbeat(transact(host, worker, owns, () => processRecords(host.scopes, worker, records), offsets), heartbeat);
    if (result === null || !host.survived(worker, result)) return false;
    if (result.ok) {
      for (const offset of offsets) worker.nextOffsets.set(offset.topic, BigInt(offset.offset));
      host.counters.records += records.length;
      for (const part of parts) host.target.metrics?.consumed(part.topic, part.messages.length);
      return true;
    }
    if (result.kind === 'refused') return commitRefusedParts(host, worker, parts, result.error, owns, heartbeat);
    failures += 1;
    await afterTransientFailure(host.log, worker, result.error, failures, heartbeat);
  }
}

/** After a refusal: parts one at a time, a part split in halves, a record alone down REFUSAL_STEPS. */
async function commitRefusedParts<V>(host: CommitHost<V>, worker: PartitionWorker<V>, parts: BatchPart[], refusal: unknown, owns: Ownership, heartbeat: () => Promise<void>): Promise<boolean> {
  if (parts.length > 1) {
    for (const part of parts) if (!(await commitParts(host, worker, [part], owns, heartbeat))) return false;
    return true;
  }
  const { topic, messages, through } = parts[0] as BatchPart;
  const [alone] = messages;
  if (messages.length === 1 && alone !== undefined) return commitRefused(host, worker, topic, alone, through, refusal, owns, heartbeat);
  host.log.warn('Kafka refused a record of these; splitting them to find it', { partition: worker.partition, topic, records: messages.length, error: refusal });
  const mid = Math.floor(messages.length / 2);
  const left = messages.slice(0, mid);
  const leftThrough = (left[left.length - 1] as KafkaMessage).offset;
  return (await commitChunk(host, worker, topic, left, leftThrough, owns, heartbeat)) && commitChunk(host, worker, topic, messages.slice(mid), through, owns, heartbeat);
}

/** The record Kafka refused walks down REFUSAL_STEPS, one transaction each, until something of it fits. */
async function commitRefused<V>(host: CommitHost<V>, worker: PartitionWorker<V>, topic: string, message: KafkaMessage, through: string, firstRefusal: unknown, owns: Ownership, heartbeat: () => Promise<void>): Promise<boolean> {
  const record = inputRecord(topic, worker.partition, message);
  const next = (BigInt(through) + 1n).toString();
  // Alone as it is, it was refused already: go on from the next step.
  let step = 1;
  let refusal = firstRefusal;
  for (let failures = 0; ; ) {
    const stepName = REFUSAL_STEPS[step] ?? 'dead-letter-note';
    const result = await transact(host, worker, owns, () => scopeAtStep(host.scopes, worker, record, stepName, refusal), [{ topic, partition: worker.partition, offset: next }]);
    if (result === null || !host.survived(worker, result)) return false;
    if (result.ok) {
      worker.nextOffsets.set(topic, BigInt(next));
      host.counters.records += 1;
      return true;
    }
    if (result.kind === 'refused') {
      refusal = result.error;
      step += 1;
      if (step < REFUSAL_STEPS.length) continue;
      // Not even a note without the record's bytes fits: the dead-letter topic itself is at fault.
      host.log.error('Kafka refuses even the dead-letter note of this record; retrying', { partition: worker.partition, topic, offset: message.offset, error: result.error });
      step = 0;
    }
    failures += 1;
    await afterTransientFailure(host.log, worker, result.error, failures, heartbeat);
  }
}

/** Builds a scope and commits it under the partition's queue; null when the partition is no longer ours. */
async function transact<V>(host: CommitHost<V>, worker: PartitionWorker<V>, owns: Ownership, build: () => Promise<TransactionScope<V>>, offsets: InputOffset[]): Promise<CommitResult | null> {
  return worker.exclusive(async () => {
    if (!owns()) return null;
    let scope: TransactionScope<V>;
    try {
      scope = await build();
    } catch (error) {
      // processRecords throws only transient errors: nothing is staged, try again later.
      return { ok: false, kind: 'transient', error };
    }
    const result = await commitScope(host.target, worker, scope, offsets);
    if (result.ok) host.counters.transactions += 1;
    else host.counters.retries += 1;
    return result;
  });
}

async function afterTransientFailure<V>(log: Logger, worker: PartitionWorker<V>, error: unknown, failures: number, heartbeat: () => Promise<void>): Promise<void> {
  const delay = Math.min(50 * 2 ** failures, MAX_RETRY_PAUSE_MS);
  if (failures === 1 || failures % 10 === 0) log.warn('transaction failed; retrying', { partition: worker.partition, failures, retryInMs: delay, error });
  await pause(delay, heartbeat);
}

/** Waits `ms`, keeping the group session alive meanwhile. */
export async function pause(ms: number, heartbeat: () => Promise<void>): Promise<void> {
  await waitWithHeartbeat(sleep(ms), heartbeat);
}

/**
 * Waits for `work`, heartbeating every second; a rebalance surfaces as the heartbeat's
 * error. The work then goes on unwatched (a transaction ends on its own, or is fenced by
 * the partition's next owner), so its own outcome must not surface as an unhandled error.
 */
export async function waitWithHeartbeat<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
  let settled = false;
  const done = work.finally(() => (settled = true));
  while (!settled) {
    await Promise.race([done, sleep(1000)]);
    if (settled) break;
    try {
      await heartbeat();
    } catch (error) {
      done.catch(() => {});
      throw error;
    }
  }
  return done;
}

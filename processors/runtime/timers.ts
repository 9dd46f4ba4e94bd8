// Due deadlines of one partition, fired through the same transactional path as records.
// A deadline leaves the index only when the transaction that handled it committed: a
// handler that throws is retried with backoff, a transaction that fails puts every key
// back, and a transaction Kafka refuses is split until the one key at fault is found,
// which then gets one try with the refusal known and, failing that, a long pause.
import type { Logger } from '../../core/log.js';
import { commitScope, type CommitResult, type CommitTarget } from './commit.js';
import { isTransient } from './failures.js';
import type { PartitionWorker } from './partition-worker.js';
import { yieldToEventLoop, YIELD_EVERY_RECORDS } from './record-scopes.js';
import { TransactionScope } from './transaction-scope.js';
import type { StreamProcessor } from './types.js';

export interface TimerSource<V> extends CommitTarget<V> {
  processor: StreamProcessor<V>;
  now: () => number;
  maxPerTransaction: number;
  log: Logger;
}

export interface TimerOutcome {
  fired: number;
  result: CommitResult | null;
}

/** Longest wait before a failing handler is tried again, and before a refused key is. */
const MAX_HANDLER_RETRY_MS = 60_000;
const REFUSED_KEY_RETRY_MS = 10 * 60_000;

export async function fireDeadlines<V>(source: TimerSource<V>, worker: PartitionWorker<V>): Promise<TimerOutcome> {
  const now = source.now();
  if (now < worker.timersPausedUntil) return { fired: 0, result: null };
  const due = worker.table.takeDue(now, worker.timersIsolated ? 1 : source.maxPerTransaction);
  if (due.length === 0) {
    worker.timersIsolated = false;
    return { fired: 0, result: null };
  }
  const scope = new TransactionScope<V>(worker.table, worker.partition, now);
  const failed = new Map<string, unknown>();
  for (const [i, key] of due.entries()) {
    if (i > 0 && i % YIELD_EVERY_RECORDS === 0) await yieldToEventLoop();
    const refused = worker.timerRefusals.get(key);
    const child = scope.child(refused !== undefined && refused.count >= 2 ? refused.error : undefined);
    try {
      await source.processor.onDeadline(child, key);
      child.merge();
    } catch (error) {
      failed.set(key, error);
    }
  }
  const result = await commitScope(source, worker, scope, []);
  if (result.ok) {
    worker.timerStreak = 0;
    for (const key of due) {
      if (!failed.has(key)) {
        worker.timerFailures.delete(key);
        worker.timerRefusals.delete(key);
      }
    }
    for (const [key, error] of failed) retryHandler(source, worker, key, error, now);
    return { fired: due.length - failed.size, result };
  }
  worker.table.putBack(due);
  if (result.kind === 'refused') {
    if (due.length > 1) {
      worker.timersIsolated = true;
    } else {
      noteRefusal(source, worker, due[0] as string, result.error, now);
    }
  } else if (result.kind === 'transient') {
    worker.timerStreak += 1;
    worker.timersPausedUntil = now + Math.min(100 * 2 ** worker.timerStreak, 5_000);
    source.log.warn('timer transaction failed; it will be retried', { partition: worker.partition, keys: due.length, error: result.error });
  }
  return { fired: 0, result };
}

function retryHandler<V>(source: TimerSource<V>, worker: PartitionWorker<V>, key: string, error: unknown, now: number): void {
  const failures = (worker.timerFailures.get(key) ?? 0) + 1;
  worker.timerFailures.set(key, failures);
  const delay = Math.min(1_000 * 2 ** (failures - 1), MAX_HANDLER_RETRY_MS);
  worker.table.retryAt(key, now + delay);
  const level = isTransient(error) ? 'warn' : 'error';
  source.log[level]('deadline handler failed; it will be retried', { partition: worker.partition, key, failures, retryInMs: delay, error });
}

function noteRefusal<V>(source: TimerSource<V>, worker: PartitionWorker<V>, key: string, error: unknown, now: number): void {
  const count = (worker.timerRefusals.get(key)?.count ?? 0) + 1;
  if (count < 3) {
    worker.timerRefusals.set(key, { count, error });
    return;
  }
  // Not even the reduced transaction fits: nothing a retry soon could change.
  worker.timerRefusals.delete(key);
  worker.table.retryAt(key, now + REFUSED_KEY_RETRY_MS);
  source.log.error('Kafka refuses the timer transaction of this key; trying it again later', { partition: worker.partition, key, retryInMs: REFUSED_KEY_RETRY_MS, error });
}

// Turns input records into what one transaction writes, in the four ways the runtime may
// need: as the processor means them; again with Kafka's refusal known (the processor
// drops what was refused and says so); as a dead-letter copy of the record alone; and, when
// even the copy is refused, as a dead-letter note without the record's bytes. Each step
// writes less than the one before, so one of them always fits.
import type { KafkaMessage } from 'kafkajs';
import type { Logger } from '../../core/log.js';
import { StacklError } from '../../core/errors.js';
import { deadLetter, DLQ_HEADERS } from '../../topics/dead-letter.js';
import { partitionForKey } from '../../topics/partitioner.js';
import { describeFailure, isTransient } from './failures.js';
import type { PartitionWorker } from './partition-worker.js';
import { TransactionScope } from './transaction-scope.js';
import type { InputRecord, StreamProcessor } from './types.js';


/**
 * Records processed between two turns of the event loop. Processing is a chain of
 * promises that never waits for I/O, and timers (the group heartbeat among them) cannot
 * fire inside it: 2,000 records on a busy machine held the loop past a 10 s session and
 * the group took the partition away. A turn every few dozen records costs nothing.
 */
export const YIELD_EVERY_RECORDS = 64;

/** Lets timers and I/O run before going on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export type RecordStep = 'process' | 'process-refused' | 'dead-letter' | 'dead-letter-note';

/**
 * The steps a record of a refused batch goes through, one transaction each, in order: alone
 * as it is (another record of the batch may have been at fault), then with less and less.
 */
export const REFUSAL_STEPS: readonly RecordStep[] = ['process', 'process-refused', 'dead-letter', 'dead-letter-note'];

export interface ScopeSource<V> {
  processor: StreamProcessor<V>;
  partitions: number;
  dlqTopic: string;
  groupId: string;
  log: Logger;
  now: () => number;
  onDeadLetter: () => void;
}

export function inputRecord(topic: string, partition: number, message: KafkaMessage): InputRecord {
  return { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {}, timestamp: message.timestamp };
}

/**
 * Processes `records` into one scope. A record the processor cannot handle is poison and
 * is dead-lettered in the same transaction; a transient error is thrown, so the caller
 * retries the whole batch later with nothing staged.
 */
export async function processRecords<V>(source: ScopeSource<V>, worker: PartitionWorker<V>, records: InputRecord[], refusal?: unknown): Promise<TransactionScope<V>> {
  const scope = new TransactionScope<V>(worker.table, worker.partition, source.now());
  for (const [i, record] of records.entries()) {
    if (i > 0 && i % YIELD_EVERY_RECORDS === 0) await yieldToEventLoop();
    const child = scope.child(refusal);
    try {
      checkKey(record, source.partitions);
      await source.processor.onRecord(child, record);
      child.merge();
    } catch (error) {
      if (isTransient(error)) throw error;
      source.onDeadLetter();
      scope.outputs.push(deadLetter(source.dlqTopic, source.groupId, record, error));
      source.log.warn('record dead-lettered', { topic: record.topic, partition: record.partition, offset: record.offset, error });
    }
  }
  return scope;
}

/** The scope of one record at one step of REFUSAL_STEPS. */
export async function scopeAtStep<V>(source: ScopeSource<V>, worker: PartitionWorker<V>, record: InputRecord, step: RecordStep, refusal: unknown): Promise<TransactionScope<V>> {
  switch (step) {
    case 'process':
      return processRecords(source, worker, [record]);
    case 'process-refused':
      return processRecords(source, worker, [record], refusal);
    case 'dead-letter':
    case 'dead-letter-note': {
      const scope = new TransactionScope<V>(worker.table, worker.partition, source.now());
      const { code, message } = describeFailure(refusal);
      const reason = new StacklError(code, `Kafka refused what this record writes: ${message}`);
      // The note keeps the origin and the reason; the record's bytes and headers were too much even for the dead-letter topic.
      const copy =
        step === 'dead-letter'
          ? deadLetter(source.dlqTopic, source.groupId, record, reason)
          : deadLetter(source.dlqTopic, source.groupId, { ...record, value: null, headers: { [DLQ_HEADERS.valueBytes]: String(record.value?.length ?? 0) } }, reason);
      scope.outputs.push(copy);
      source.onDeadLetter();
      source.log.error('record dead-lettered: Kafka refused what it writes', { topic: record.topic, partition: record.partition, offset: record.offset, step, error: refusal });
      return scope;
    }
    default:
      return step satisfies never;
  }
}

function checkKey(record: InputRecord, partitions: number): void {
  if (record.key === null) throw new StacklError('RECORD_WITHOUT_KEY', 'input records must be keyed by task id');
  const expected = partitionForKey(record.key, partitions);
  if (expected !== record.partition) {
    throw new StacklError('WRONG_PARTITION', `key belongs to partition ${expected}, found on ${record.partition}: produce with Kafka's default (murmur2) partitioner`);
  }
}

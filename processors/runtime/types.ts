// The contract between the stream runtime and an app built on it (Faust's agents,
// tables and timers, reduced to what STACKL needs): the app sees one record or one
// due deadline at a time, reads and writes its partition's table, and emits records.
// The runtime makes all of that, plus the input offsets, one Kafka transaction.
import type { IHeaders } from 'kafkajs';

export interface InputRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

export interface OutputRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
  /** Omitted: Kafka's default partitioner picks it from the key. */
  partition?: number;
}

export interface ProcessContext<V> {
  readonly partition: number;
  /** Wall-clock time of this transaction, read once, so every decision in it agrees. */
  readonly now: number;
  /**
   * Set when Kafka refused, for good, a record this input wrote on an earlier try (a reply
   * too large for its topic, a topic nobody may write). The processor should then write only
   * what cannot be refused and record what it dropped; if Kafka refuses again, the runtime
   * dead-letters the input record itself.
   */
  readonly refusal: unknown;
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  delete(key: string): void;
  /**
   * Deletes `key` but remembers, for the app's retention window, that it existed: a later
   * `isRetired(key)` says so. Without a window it is a plain delete.
   */
  retire(key: string): void;
  isRetired(key: string): boolean;
  send(record: OutputRecord): void;
}

export interface StreamProcessor<V> {
  /**
   * Handles one input record. Throwing discards its writes; a transient error (see
   * failures.ts) retries the batch later, any other dead-letters the record.
   */
  onRecord(ctx: ProcessContext<V>, record: InputRecord): Promise<void> | void;
  /** Called when `deadlineOf(value)` of `key` has passed. */
  onDeadline(ctx: ProcessContext<V>, key: string): Promise<void> | void;
  /** The absolute time at which `onDeadline` must run for this value, if any. */
  deadlineOf(value: V): number | null;
}

export interface TableSerde<V> {
  encode(value: V): Buffer;
  decode(bytes: Buffer): V;
}

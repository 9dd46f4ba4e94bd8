// The transactional producer of one task partition. Its transactional id is derived
// from the partition, so whoever owns the partition next fences this one on connect
// (kafkajs has no consumer-group fencing, KIP-447). Every transaction carries the
// changelog writes, the output records and the input offsets of one batch.
import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { StacklError } from '../../core/errors.js';
import type { OutputRecord } from './types.js';
import { onePartitionPerSend } from '../../topics/one-partition-per-send.js';

export interface TransactionContent {
  records: OutputRecord[];
  /** Input offsets to commit for the consumer group (the next offset to read, per topic). */
  offsets: { topic: string; partition: number; offset: string }[];
}

/** The producer lost its partition to a newer owner; the caller must drop the partition. */
export class FencedError extends StacklError {
  constructor(partition: number, cause: unknown) {
    super('PARTITION_FENCED', `partition ${partition} is owned by another instance now`, { retriable: false, cause });
  }
}

/**
 * The commit request went out but no answer came back (or a failed transaction could not
 * be aborted): whether it committed is unknown. The caller must rebuild the partition's
 * state from the log rather than trust what it holds in memory.
 */
export class CommitOutcomeUnknownError extends StacklError {
  constructor(partition: number, cause: unknown) {
    super('COMMIT_OUTCOME_UNKNOWN', `the outcome of a transaction on partition ${partition} is unknown`, { retriable: true, cause });
  }
}

const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

function errorType(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'type' in error ? String((error as { type: unknown }).type) : undefined;
}

/**
 * Back-to-back transactions of one transactional id meet CONCURRENT_TRANSACTIONS while the
 * coordinator still writes the previous commit's markers, a matter of milliseconds. kafkajs
 * retries the send after the client's first backoff (100 ms), which put ~100 ms on every
 * hop through the broker; the Java client waits 20 ms here. Twelve doublings from 10 ms
 * still wait out a broker restart (about 40 s in all, like the client default's).
 */
const TRANSACTION_RETRY = { initialRetryTime: 10, retries: 12 };

/**
 * Why a fresh kafkajs producer follows every transaction that did not commit: kafkajs rolls
 * a partition's sequence number back when a produce request fails, and does not bump the
 * producer epoch when it aborts (the Java client does, KIP-360). A request that reached the
 * broker although its answer was lost then shares sequence numbers with the next
 * transaction's first batch, which the broker drops as a duplicate while the offsets
 * commit: a record lost without an error. A new producer starts a new epoch with fresh
 * sequences (initProducerId also aborts whatever the old one left open).
 */
export class PartitionProducer {
  private producer: Producer;
  private connecting: Promise<void> | undefined;
  private closed = false;
  /** Producers made for this partition (1 + replacements); tests read it. */
  generation = 1;

  constructor(
    private readonly kafka: Kafka,
    readonly partition: number,
    private readonly transactionalId: string,
    private readonly groupId: string,
  ) {
    this.producer = this.create();
  }

  /**
   * Connects. kafkajs registers the transactional id (fencing the previous owner and
   * aborting its open transaction) only with the first transaction, so a new owner's
   * first commit, its barrier, is what fences.
   */
  async connect(): Promise<void> {
    if (this.closed) throw new StacklError('PARTITION_CLOSED', `partition ${this.partition} was closed`);
    const producer = this.producer;
    // A connect that failed (Kafka away) is forgotten, so the next call tries again
    // instead of failing with the old error forever.
    this.connecting ??= producer.connect().catch((error: unknown) => {
      if (this.producer === producer) this.connecting = undefined;
      throw error;
    });
    await this.connecting;
    // Closed while connecting: the disconnect that close() sent may have raced the connect.
    if (this.closed) await producer.disconnect().catch(() => {});
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    await this.producer.disconnect().catch(() => {});
  }

  async commit(content: TransactionContent): Promise<void> {
    try {
      await this.connect();
      await this.transact(content);
    } catch (error) {
      if (!(error instanceof FencedError)) this.replace();
      throw error;
    }
  }

  private async transact(content: TransactionContent): Promise<void> {
    const transaction = await this.producer.transaction();
    try {
      // Requests of at most MAX_REQUEST_BYTES (a record batch over the broker's
      // max.message.bytes, 1 MiB by default, is refused), each to one partition, one after
      // another. kafkajs sends a request to several leaders side by side and, when one
      // fails, retries before the others answered: a request still in flight is then sent
      // again with the next sequence numbers and the broker writes its records twice, inside
      // a transaction that commits (events duplicated in task.events, found by the 3-node
      // leader-kill test). One leader per request leaves nothing in flight to send again.
      for (const slice of slices(content.records, MAX_REQUEST_BYTES)) {
        for (const request of byDestination(slice)) await transaction.send({ ...request, acks: -1 });
      }
      if (content.offsets.length > 0) {
        const topics = content.offsets.map((o) => ({ topic: o.topic, partitions: [{ partition: o.partition, offset: o.offset }] }));
        await withConcurrentTransactionRetry(() => transaction.sendOffsets({ consumerGroupId: this.groupId, topics }));
      }
    } catch (error) {
      if (FENCED_TYPES.has(errorType(error) ?? '')) throw new FencedError(this.partition, error);
      // The commit was never sent, so nothing of it can commit: abort to free the
      // transaction at once (if that fails too, the next producer's initialisation aborts it).
      if (transaction.isActive()) await transaction.abort().catch(() => {});
      throw error;
    }
    try {
      await transaction.commit();
    } catch (error) {
      if (FENCED_TYPES.has(errorType(error) ?? '')) throw new FencedError(this.partition, error);
      throw new CommitOutcomeUnknownError(this.partition, error);
    }
  }

  private create(): Producer {
    return this.kafka.producer({ transactionalId: this.transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000, retry: TRANSACTION_RETRY });
  }

  private replace(): void {
    const old = this.producer;
    void old.disconnect().catch(() => {});
    this.producer = this.create();
    this.connecting = undefined;
    this.generation += 1;
  }
}

/** AddOffsetsToTxn may answer CONCURRENT_TRANSACTIONS while the previous commit settles; kafkajs does not retry it (#430). */
async function withConcurrentTransactionRetry<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (errorType(error) !== 'CONCURRENT_TRANSACTIONS' || attempt >= 20) throw error;
      await sleep(Math.min(20 * 2 ** attempt, 500));
    }
  }
}

const MAX_REQUEST_BYTES = 512 * 1024;

function sizeOf(record: OutputRecord): number {
  let size = 64 + (record.value?.length ?? 0) + (typeof record.key === 'string' ? Buffer.byteLength(record.key) : (record.key?.length ?? 0));
  for (const [name, value] of Object.entries(record.headers ?? {})) size += name.length + (value === undefined ? 0 : String(value).length);
  return size;
}

/** Consecutive slices of at most `maxBytes` (a bigger single record gets a slice of its own). */
export function slices(records: OutputRecord[], maxBytes: number): OutputRecord[][] {
  const result: OutputRecord[][] = [];
  let current: OutputRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = sizeOf(record);
    if (current.length > 0 && bytes + size > maxBytes) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

/**
 * The records for each partition, in order, one request each (one-partition-per-send.ts:
 * a request spanning leaders can lose records when a leader moves). Records without a
 * partition (replies to topics of a producer's own, placed by kafkajs' partitioner) go
 * one per request.
 */
export function byDestination(records: OutputRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    const message: Message = { key: record.key, value: record.value };
    if (record.headers !== undefined) message.headers = record.headers;
    if (record.partition !== undefined) message.partition = record.partition;
    const messages = byTopic.get(record.topic);
    if (messages === undefined) byTopic.set(record.topic, [message]);
    else messages.push(message);
  }
  return [...byTopic].flatMap(([topic, messages]) => onePartitionPerSend(messages).map((group) => ({ topic, messages: group })));
}

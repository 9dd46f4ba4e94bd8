// The consume loop the projector and the replay share: read committed from task.events,
// one PostgreSQL transaction per kafkajs batch, positions from PostgreSQL only. On every
// assignment the new partitions are paused, sought to their stored offsets, then
// resumed, so nothing is fetched from a position PostgreSQL did not choose. A record
// that does not decode is recorded in the batch's transaction and published to the
// dead-letter topic only after it committed (dead-letter-publisher.ts).
import { measuredBatch } from './projection-metrics.js';
import type { Consumer, Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from '../../core/log.js';
import { DeadLetterPublisher, type DeadLetterPublishing } from './dead-letter-publisher.js';
import { deadLetterRow } from './dead-letter-rows.js';
import { decodeBatch, type Unprojectable } from './decode-batch.js';
import { advancePastMarkers, storedOffsets, type OffsetKey } from './offsets.js';
import { PartitionTracker } from './partition-tracker.js';
import { projectionSql, type ProjectionSql } from './table-sql.js';
import { writeBatch } from './write-batch.js';

export interface ProjectionConsumerOptions {
  kafka: Kafka;
  pool: pg.Pool;
  key: Required<OffsetKey>;
  groupId: string;
  dlqTopic: string;
  logger: Logger;
  /** Partitions projected at once, each in its own transaction. */
  concurrency?: number;
  /** Replay: stop each partition before this offset. */
  stopAt?: ReadonlyMap<number, number>;
  /**
   * False for a replay: dead letters are recorded in its schema but never sent, since the
   * live projector sent each of them when it first read the record (default true).
   */
  publishDeadLetters?: boolean;
  /** How dead letters are published (sweep interval, a test hook). */
  deadLetterPublishing?: DeadLetterPublishing;
  /** The consumer stopped for good (kafkajs gave up); a role should exit and be restarted. */
  onFatal?: (error: unknown) => void;
}

export interface ProjectionStats {
  /** Events written to task_events. */
  events: number;
  batches: number;
  belowStoredOffset: number;
  duplicates: number;
  staleForRow: number;
  /** Dead letters this consumer's transactions recorded (a redelivered batch records none). */
  deadLettered: number;
  /** Dead letters Kafka acknowledged from this consumer's publisher (also those an earlier run recorded). */
  deadLettersPublished: number;
  ownedPartitions: number[];
}

export class ProjectionConsumer {
  private readonly consumer: Consumer;
  private readonly publisher: DeadLetterPublisher | undefined;
  private readonly sql: ProjectionSql;
  readonly partitions: PartitionTracker;
  private readonly counters = { events: 0, batches: 0, belowStoredOffset: 0, duplicates: 0, staleForRow: 0, deadLettered: 0 };

  constructor(private readonly options: ProjectionConsumerOptions) {
    this.sql = projectionSql(options.key.schema);
    if (options.publishDeadLetters ?? true) {
      this.publisher = new DeadLetterPublisher({ kafka: options.kafka, pool: options.pool, key: options.key, logger: options.logger, ...options.deadLetterPublishing });
    }
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 2 * 1024 * 1024,
    });
    const topic = options.key.topic;
    this.partitions = new PartitionTracker({
      stopAt: options.stopAt,
      stored: () => storedOffsets(options.pool, options.key),
      pause: (ps) => this.consumer.pause([{ topic, partitions: ps }]),
      resume: (ps) => this.consumer.resume([{ topic, partitions: ps }]),
      seek: (partition, offset) => this.consumer.seek({ topic, partition, offset: String(offset) }),
      logger: options.logger,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => this.partitions.assigned(payload.memberAssignment[topic] ?? []));
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0 && payload.firstOffset !== null) void this.pastMarkers(payload.partition, Number(payload.firstOffset), Number(payload.lastOffset));
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      options.logger.error('projection consumer stopped after a non-retriable error', { error: payload.error });
      options.onFatal?.(payload.error);
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    // Dead letters an earlier run recorded and did not get to send go first.
    this.publisher?.start();
    await this.consumer.subscribe({ topic: this.options.key.topic, fromBeginning: true });
    await this.consumer.run({
      // Offsets live in PostgreSQL; committing them to Kafka too would only invite confusion.
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || !this.partitions.isActive(batch.partition)) return;
        const stopAt = this.options.stopAt?.get(batch.partition);
        const decoded = await decodeBatch(batch.partition, batch.messages, stopAt);
        const { key, dlqTopic, groupId } = this.options;
        const deadLetters = decoded.unprojectable.map((u) => deadLetterRow(key, dlqTopic, groupId, batch.partition, u));
        const nextOffset = Math.min(Number(batch.lastOffset()) + 1, stopAt ?? Number.MAX_SAFE_INTEGER);
        const outcome = await measuredBatch(decoded.events.length, () => writeBatch(this.options.pool, this.sql, {
          projector: key.projector,
          topic: key.topic,
          partition: batch.partition,
          events: decoded.events,
          nextOffset,
          deadLetters,
          publishDeadLetters: this.publisher !== undefined,
        }));
        this.logDeadLetters(batch.partition, decoded.unprojectable, outcome.deadLetters);
        this.counters.batches += 1;
        this.counters.events += outcome.applied;
        this.counters.belowStoredOffset += outcome.belowStoredOffset;
        this.counters.duplicates += outcome.duplicates;
        this.counters.staleForRow += outcome.staleForRow;
        resolveOffset(batch.lastOffset());
        this.partitions.reached(batch.partition, outcome.nextOffset);
        // Only after the commit, and only what this transaction recorded: a redelivered batch sends nothing.
        await this.publisher?.publishRecorded(batch.partition, outcome.deadLetters);
        await heartbeat();
      },
    });
    await this.partitions.firstAssignment();
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.publisher?.stop();
  }

  stats(): ProjectionStats {
    return { ...this.counters, deadLettersPublished: this.publisher?.published ?? 0, ownedPartitions: this.partitions.owned() };
  }

  private async pastMarkers(partition: number, first: number, last: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (await advancePastMarkers(this.options.pool, this.options.key, partition, first, last, this.options.stopAt?.get(partition))) {
          this.partitions.reached(partition, Math.min(last + 1, this.options.stopAt?.get(partition) ?? Number.MAX_SAFE_INTEGER));
        }
        return;
      } catch (error) {
        if (attempt >= 5) return this.options.logger.warn('could not move past transaction markers; the next batch will', { partition, error });
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  /** Logs each dead letter once: when the transaction that recorded it committed. */
  private logDeadLetters(partition: number, records: readonly Unprojectable[], recorded: readonly number[]): void {
    if (recorded.length === 0) return;
    const fresh = new Set(recorded);
    for (const { message, error } of records) {
      if (fresh.has(Number(message.offset))) this.options.logger.warn('task event dead-lettered', { topic: this.options.key.topic, partition, offset: message.offset, error });
    }
    this.counters.deadLettered += recorded.length;
  }
}

// The projection of a `custom` broker deployment (STACKL_BROKER=custom): there is no
// Kafka, and the log is the table broker_events in the projection's own schema. Rows are
// read per partition in offset order and written through the very path of the Kafka
// projector (decodeBatch → writeBatch, one transaction per batch, projection_offsets as
// the only position), so rows, duplicates and dead-letter rows come out the same.
//
// Reading a prefix is safe: the broker appends a partition's events under a row lock on
// broker_partitions, so its transactions commit in offset order and a statement never
// sees offset n + 1 without n.
import { measuredBatch } from './projection-metrics.js';
import type { KafkaMessage } from 'kafkajs';
import pg from 'pg';
import type { StacklConfig } from '../../core/config.js';
import type { Logger } from '../../core/log.js';
import { topicNames } from '../../topics/names.js';
import { deadLetterRow } from './dead-letter-rows.js';
import { decodeBatch, type Unprojectable } from './decode-batch.js';
import type { ProjectionLag } from './lag.js';
import { ensureOffsetRows, projectedThrough, PROJECTOR_NAME, waitForProjection, type OffsetKey } from './offsets.js';
import type { ProjectionStats } from './projection-consumer.js';
import { projectionSql, type ProjectionSql } from './table-sql.js';
import { writeBatch } from './write-batch.js';

const DEFAULT_BATCH_SIZE = 500;
/** The broker does not NOTIFY new events, so an idle projection polls; one query per poll covers every partition. */
const DEFAULT_POLL_MS = 50;
const MAX_BACKOFF_MS = 5000;

export interface TableProjectionOptions {
  pool: pg.Pool;
  key: Required<OffsetKey>;
  partitions: number;
  /** Named in each dead-letter row as the Kafka projector names it; nothing is ever sent there. */
  dlqTopic: string;
  /** The `stackl.dlq.app` header of a dead letter (the Kafka projector's consumer group). */
  app: string;
  logger: Logger;
  batchSize?: number;
  pollMs?: number;
}

interface Position {
  partition: number;
  /** Stored next offset (projection_offsets). */
  next: number;
  /** Max offset in broker_events + 1 (0 when the partition is empty). */
  end: number;
}

export class TableProjection {
  private readonly sql: ProjectionSql;
  private readonly readPositions: string;
  private readonly readEvents: string;
  private readonly counters = { events: 0, batches: 0, belowStoredOffset: 0, duplicates: 0, staleForRow: 0, deadLettered: 0 };
  /** Partitions being drained, each by one task of its own. */
  private readonly draining = new Map<number, Promise<void>>();
  private stopping = false;
  private readonly stopSignal: Promise<void>;
  private signalStop: () => void = () => {};
  private polling: Promise<void> | undefined;

  constructor(private readonly options: TableProjectionOptions) {
    const s = pg.escapeIdentifier(options.key.schema);
    this.sql = projectionSql(options.key.schema);
    this.stopSignal = new Promise((resolve) => (this.signalStop = resolve));
    // Per partition one index probe each side (the last offset by the primary key,
    // backwards), never a scan of the log: this runs every poll.
    this.readPositions = `select p as partition,
        coalesce((select o.next_offset from ${s}.projection_offsets o where o.projector = $1 and o.topic = $2 and o.partition = p), 0)::float8 as next,
        coalesce((select e."offset" + 1 from ${s}.broker_events e where e.partition = p order by e."offset" desc limit 1), 0)::float8 as "end"
      from generate_series(0, $3::int - 1) as p order by p`;
    // Ordered by the column, not by the text alias of the same name (that would sort 10 before 2).
    this.readEvents = `select e."offset"::text as "offset", e.task_id, e.value from ${s}.broker_events e
      where e.partition = $1 and e."offset" >= $2 order by e."offset" limit $3`;
  }

  start(): void {
    this.polling ??= this.poll();
  }

  /** Lets every batch under way commit (or roll back) whole, then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    await this.polling;
    await Promise.all(this.draining.values());
  }

  stats(): ProjectionStats {
    // Every partition is this instance's: there is no group. Nothing is published (no Kafka).
    return { ...this.counters, deadLettersPublished: 0, ownedPartitions: Array.from({ length: this.options.partitions }, (_, p) => p) };
  }

  async lag(): Promise<ProjectionLag> {
    const partitions = (await this.positions()).map((p) => ({ partition: p.partition, endOffset: p.end, projectedThrough: p.next, lag: Math.max(0, p.end - p.next) }));
    return { topic: this.options.key.topic, partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  projectedThrough(partition: number): Promise<number> {
    return projectedThrough(this.options.pool, this.options.key, partition);
  }

  waitFor(partition: number, offset: number, timeoutMs: number): Promise<boolean> {
    return waitForProjection(this.options.pool, this.options.key, partition, offset, timeoutMs);
  }

  private async positions(): Promise<Position[]> {
    const { key, partitions, pool } = this.options;
    const { rows } = await pool.query<Position>(this.readPositions, [key.projector, key.topic, partitions]);
    return rows;
  }

  /**
   * One query per poll finds the partitions behind; each gets a drain of its own, so a
   * partition that waits (its offset row locked by a second projector, a slow batch)
   * never holds the others back.
   */
  private async poll(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        // A drain that ends while the query runs may have moved past what it returns: its
        // partition waits for the next poll rather than be read again from a stale offset.
        const busy = new Set(this.draining.keys());
        for (const p of await this.positions()) {
          if (p.end > p.next && !busy.has(p.partition) && !this.draining.has(p.partition) && !this.stopping) {
            this.draining.set(p.partition, this.drain(p.partition, p.next).finally(() => this.draining.delete(p.partition)));
          }
        }
        failures = 0;
        await this.sleep(this.options.pollMs ?? DEFAULT_POLL_MS);
      } catch (error) {
        failures += 1;
        this.options.logger.warn('could not read the positions of broker_events; retrying', { error, failures });
        await this.sleep(backoff(failures));
      }
    }
  }

  /**
   * Batches from `from` until a read comes back short. After a few failures in a row it
   * leaves the partition to the next poll, which starts it again from the stored offset.
   */
  private async drain(partition: number, from: number): Promise<void> {
    const batchSize = this.options.batchSize ?? DEFAULT_BATCH_SIZE;
    for (let next = from, failures = 0; !this.stopping; ) {
      try {
        const read = await this.project(partition, next, batchSize);
        if (read.count < batchSize) return;
        next = read.nextOffset;
        failures = 0;
      } catch (error) {
        // PostgreSQL away, or a decoder fault worth retrying: the batch did not commit, so
        // its rows are read again; retried, never dead-lettered (as in the Kafka projector).
        failures += 1;
        this.options.logger.warn('table projection batch failed; retrying', { partition, error, failures });
        await this.sleep(backoff(failures));
        if (failures >= 3) return;
      }
    }
  }

  /** One batch of `partition` from `from`: how many rows it read, and where the partition now continues. */
  private async project(partition: number, from: number, batchSize: number): Promise<{ count: number; nextOffset: number }> {
    const { pool, key, dlqTopic, app } = this.options;
    const { rows } = await pool.query<{ offset: string; task_id: string; value: Buffer }>(this.readEvents, [partition, from, batchSize]);
    const last = rows.at(-1);
    if (last === undefined) return { count: 0, nextOffset: from };
    // The record as a Kafka consumer would get it: key = task id, as the Kafka broker keys
    // it; the table keeps no time, so -1 (Kafka's "no timestamp"); nothing reads it.
    const messages: KafkaMessage[] = rows.map((r) => ({ offset: r.offset, key: Buffer.from(r.task_id), value: r.value, timestamp: '-1', attributes: 0, headers: {} }));
    const decoded = await decodeBatch(partition, messages);
    const outcome = await measuredBatch(decoded.events.length, () =>
      writeBatch(pool, this.sql, {
        projector: key.projector,
        topic: key.topic,
        partition,
        events: decoded.events,
        nextOffset: Number(last.offset) + 1,
        deadLetters: decoded.unprojectable.map((u) => deadLetterRow(key, dlqTopic, app, partition, u)),
        // No Kafka to send them to: the row in projection_dead_letters is the dead letter.
        publishDeadLetters: false,
      }),
    );
    this.logDeadLetters(partition, decoded.unprojectable, outcome.deadLetters);
    this.counters.batches += 1;
    this.counters.events += outcome.applied;
    this.counters.belowStoredOffset += outcome.belowStoredOffset;
    this.counters.duplicates += outcome.duplicates;
    this.counters.staleForRow += outcome.staleForRow;
    // Past what this batch read when another projector already wrote further.
    return { count: rows.length, nextOffset: outcome.nextOffset };
  }

  /** Once per dead letter: only those this transaction recorded (a batch read again records none). */
  private logDeadLetters(partition: number, records: readonly Unprojectable[], recorded: readonly number[]): void {
    if (recorded.length === 0) return;
    const fresh = new Set(recorded);
    for (const { message, error } of records) {
      if (fresh.has(Number(message.offset))) this.options.logger.warn('task event dead-lettered', { table: 'broker_events', partition, offset: message.offset, error });
    }
    this.counters.deadLettered += recorded.length;
  }

  /** Resolves after `ms`, or at once when stop() is called. */
  private async sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.stopSignal, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }
}

function backoff(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 6));
}

/**
 * The projector of a custom-broker deployment, with the RunningProjector surface of the
 * Kafka one (structurally: projector.ts owns that type). Migrations are applied by the caller.
 */
export async function startTableProjection(config: StacklConfig, options: { app: string; concurrency: number; logger: Logger }) {
  // One connection per partition written at once, plus the poll and the readers (lag, waitFor).
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: options.concurrency + 2 });
  // An idle connection that drops is replaced on next use; without a listener it would crash the process.
  pool.on('error', (error) => options.logger.warn('idle PostgreSQL connection failed', { error }));
  const topics = topicNames(config.topicPrefix);
  // The same key as the Kafka projector: readers (the API's waitFor) and a later switch of broker find the same rows.
  const key = { schema: config.databaseSchema, topic: topics.events, projector: PROJECTOR_NAME };
  try {
    await ensureOffsetRows(pool, key, config.partitions);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const projection = new TableProjection({ pool, key, partitions: config.partitions, dlqTopic: topics.dlq, app: options.app, logger: options.logger });
  projection.start();
  let stopped: Promise<void> | undefined;
  return {
    // Idempotent, as the Kafka projector's.
    stop: () => (stopped ??= projection.stop().then(() => pool.end())),
    stats: () => projection.stats(),
    lag: () => projection.lag(),
    projectedThrough: (partition: number) => projection.projectedThrough(partition),
    waitFor: (partition: number, offset: number, timeoutMs: number) => projection.waitFor(partition, offset, timeoutMs),
  };
}

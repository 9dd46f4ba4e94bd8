// Sends the dead letters projection_dead_letters holds and marks them published. A batch
// asks for the rows its transaction just recorded, once it committed; a sweep on start and
// then periodically sends whatever is still waiting (the process died after the commit,
// or Kafka refused the send). Each send locks its rows (`for update skip locked`) until
// Kafka acknowledged (acks=all) and the rows are marked, so neither a sweep and a batch
// of this process nor two projectors send the same row twice. Only a crash after the
// acknowledgement and before the mark repeats a record; its source header names it.
import type { Kafka } from 'kafkajs';
import { RenewingProducer } from '../../topics/renewing-producer.js';
import pg from 'pg';
import type { Logger } from '../../core/log.js';
import { headersFromJson } from './dead-letter-rows.js';
import type { OffsetKey } from './offsets.js';
import { numberFromDb } from './sql-values.js';
import { inTransaction } from '../../core/pg-transaction.js';

/** Rows sent per send (and per transaction); a sweep goes on until fewer are waiting. */
const SEND_LIMIT = 500;

export interface DeadLetterPosition {
  partition: number;
  offset: number;
}

export interface DeadLetterPublishing {
  /** How often rows still waiting are looked for (default 5 s). */
  sweepMs?: number;
  /**
   * For tests: runs once the rows are locked and before they are sent. A process that
   * dies here has committed its dead letters and published none of them.
   */
  beforeSend?: (rows: readonly DeadLetterPosition[]) => Promise<void>;
}

export interface DeadLetterPublisherOptions extends DeadLetterPublishing {
  kafka: Kafka;
  pool: pg.Pool;
  key: Required<OffsetKey>;
  logger: Logger;
}

interface WaitingRow {
  partition: number;
  offset: number;
  dlq_topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: unknown;
}

export class DeadLetterPublisher {
  /** Connects on first use (most projectors never dead-letter anything); replaced after a failed send. */
  private readonly producer: RenewingProducer;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly table: string;
  /** Dead letters Kafka acknowledged from this publisher. */
  published = 0;

  constructor(private readonly options: DeadLetterPublisherOptions) {
    this.table = `${pg.escapeIdentifier(options.key.schema)}.projection_dead_letters`;
    this.producer = new RenewingProducer(options.kafka);
  }

  /** Sends what is waiting now, then looks again every sweepMs. */
  start(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.options.sweepMs ?? 5000);
  }

  /** Sends the dead letters a batch of `partition` just recorded. Never throws: a row left waiting goes with the next sweep. */
  async publishRecorded(partition: number, offsets: readonly number[]): Promise<void> {
    if (this.stopped || offsets.length === 0) return;
    await this.track(this.sendWaiting({ partition, offsets }).catch((error: unknown) => {
      this.options.logger.warn('could not publish dead letters; the next sweep will', { partition, offsets, error });
    }));
  }

  /** Sends every row still waiting; one sweep at a time. Never throws. */
  sweep(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.sweeping ??= this.track(
      (async () => {
        try {
          while (!this.stopped && (await this.sendWaiting()) === SEND_LIMIT);
        } catch (error) {
          this.options.logger.warn('could not publish waiting dead letters; retrying later', { error });
        } finally {
          this.sweeping = undefined;
        }
      })(),
    );
    return this.sweeping;
  }

  /** Stops sweeping, lets a send under way finish (or fail), then disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    await this.producer.disconnect().catch(() => {});
  }

  /** Locks waiting rows (those of `only`, or any), sends them, marks them published; returns how many. */
  private async sendWaiting(only?: { partition: number; offsets: readonly number[] }): Promise<number> {
    const { pool, key } = this.options;
    const sent = await inTransaction(pool, async (client) => {
      const filter = only === undefined ? '' : 'and partition = $3 and "offset" = any($4::int8[])';
      const { rows } = await client.query<WaitingRow>(
        `select partition, "offset"::float8 as "offset", dlq_topic, key, value, headers from ${this.table}
         where projector = $1 and topic = $2 and publish and published_at is null ${filter}
         order by partition, "offset" limit ${SEND_LIMIT} for update skip locked`,
        only === undefined ? [key.projector, key.topic] : [key.projector, key.topic, only.partition, only.offsets],
      );
      if (rows.length > 0) {
        const positions = rows.map((r) => ({ partition: r.partition, offset: numberFromDb(r.offset) }));
        await this.options.beforeSend?.(positions);
        await this.send(rows);
        await client.query(
          `update ${this.table} set published_at = now()
           where projector = $1 and topic = $2 and (partition, "offset") in (select * from unnest($3::int4[], $4::int8[]))`,
          [key.projector, key.topic, positions.map((p) => p.partition), positions.map((p) => p.offset)],
        );
      }
      return rows.length;
    });
    this.published += sent;
    return sent;
  }

  private async send(rows: readonly WaitingRow[]): Promise<void> {
    const topics = [...new Set(rows.map((r) => r.dlq_topic))];
    for (const topic of topics) {
      const messages = rows.filter((r) => r.dlq_topic === topic).map((r) => ({ key: r.key, value: r.value, headers: headersFromJson(r.headers) }));
      await this.producer.send({ topic, acks: -1, messages });
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => {});
    return work;
  }
}

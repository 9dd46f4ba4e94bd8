// The custom broker's way to workers over RabbitMQ (its relay, as rabbitmq-relay.ts is
// the Kafka broker's): orders the broker wrote to its outbox table go to the run and
// rollback queues, results from the results queue go into the broker's inbox. An order
// leaves the outbox in the transaction that waited for RabbitMQ's confirm (rows taken
// FOR UPDATE SKIP LOCKED, so several brokers share the sending); a result is acknowledged
// to RabbitMQ once its inbox row committed. A crash between the two sends an order twice
// or a result twice: attempts fence both.
import { WakeUp } from '../core/wake-up.js';
import { watchRelay } from './relay-metrics.js';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { insertResults, repeatSends, SEND_BATCH } from '../processors/broker/custom/outbox-work.js';
import { inTransaction } from '../core/pg-transaction.js';
import { createLogger } from '../core/log.js';
import { brokerTables, type BrokerTables } from '../processors/broker/custom/tables.js';
import { decode, taskResultSchema } from '../schemas/index.js';
import { partitionForKey } from '../topics/partitioner.js';
import { RabbitConnection, type RabbitConsumer, type RabbitDelivery } from './rabbitmq-connection.js';
import { rabbitWorkNames, type RabbitWorkNames } from './rabbitmq-names.js';
import { declareWorkQueues } from './rabbitmq-work-queues.js';

const IDLE_POLL_MS = 1_000;
/** How long a result waits for others to share its insert. */
const GATHER_MS = 2;

export interface OutboxRelayOptions {
  databaseUrl: string;
  schema: string;
  rabbitmqUrl: string;
  prefix: string;
  partitions: number;
}

export class RabbitOutboxRelay {
  private readonly names: RabbitWorkNames;
  private readonly tables: BrokerTables;
  private readonly connection: RabbitConnection;
  private readonly pool: pg.Pool;
  private readonly consumers: RabbitConsumer[] = [];
  private readonly log = createLogger({ component: 'outbox-relay' });
  private running = false;
  private unwatch: (() => void) | undefined;
  private sending: Promise<void> | undefined;
  private readonly wakeUp = new WakeUp();
  private results: RabbitDelivery[] = [];
  private resultTimer: NodeJS.Timeout | undefined;
  private inserting: Promise<void> = Promise.resolve();
  readonly counters = { ordersSent: 0, resultsTaken: 0 };

  constructor(private readonly options: OutboxRelayOptions) {
    this.names = rabbitWorkNames(options.prefix);
    this.tables = brokerTables(options.schema);
    this.connection = new RabbitConnection(options.rabbitmqUrl, 'custom broker');
    this.pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4, application_name: 'stackl-outbox-relay' });
    this.pool.on('error', (error) => this.log.warn('idle PostgreSQL connection failed', { error: error.message }));
  }

  async start(): Promise<void> {
    this.running = true;
    this.unwatch = watchRelay('custom-rabbitmq', () => ({ ...this.counters }));
    await this.connection.withChannel((channel) => declareWorkQueues(channel, this.names));
    const declare = (channel: Parameters<typeof declareWorkQueues>[0]) => declareWorkQueues(channel, this.names);
    this.consumers.push(
      await this.connection.consume({ queue: this.names.results, prefetch: 500, declare, onMessage: (d) => this.takeResult(d) }),
      // Workers acknowledge orders for the Kafka relay's offsets; the outbox needs none.
      await this.connection.consume({ queue: this.names.acks, prefetch: 1_000, declare, onMessage: (d) => d.ack() }),
    );
    this.sending = this.sendLoop();
  }

  /** The broker wrote orders: send them now rather than at the next poll. */
  wake(): void {
    this.wakeUp.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    this.wake();
    await this.sending;
    await Promise.all(this.consumers.splice(0).map((c) => c.cancel()));
    await this.flushResults();
    await this.connection.close();
    await this.pool.end();
  }

  private sendLoop(): Promise<void> {
    return repeatSends(() => this.sendBatch(), { running: () => this.running, wakeUp: this.wakeUp, idleMs: IDLE_POLL_MS, log: this.log, what: 'sending orders' });
  }

  /** One transaction: take orders, send each with a confirm, delete them; any failure puts them all back. */
  /** One transaction: take orders, send each with a confirm, delete them; any failure puts them all back. */
  private async sendBatch(): Promise<number> {
    const sent = await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string; queue: string; task_id: string; value: Buffer }>(
        `delete from ${this.tables.outbox} where id in (select id from ${this.tables.outbox} where queue in ('runs', 'rollbacks') and sent_at is null order by id limit $1 for update skip locked) returning id, queue, task_id, value`,
        [SEND_BATCH],
      );
      await Promise.all(
        rows.map((row) => this.connection.publish('', row.queue === 'rollbacks' ? this.names.rollbacks : this.names.runs, row.value, { headers: { 'stackl-task-id': row.task_id } }, 10_000)),
      );
      return rows.length;
    });
    this.counters.ordersSent += sent;
    return sent;
  }

  private takeResult(delivery: RabbitDelivery): void {
    this.results.push(delivery);
    this.resultTimer ??= setTimeout(() => void this.flushResults(), GATHER_MS);
  }

  private flushResults(): Promise<void> {
    if (this.resultTimer) clearTimeout(this.resultTimer);
    this.resultTimer = undefined;
    const batch = this.results.splice(0);
    if (batch.length > 0) this.inserting = this.inserting.then(() => this.insertResults(batch));
    return this.inserting;
  }

  /** Results into the inbox of their task's partition; undecodable ones are refused (RabbitMQ dead-letters them). */
  private async insertResults(batch: RabbitDelivery[]): Promise<void> {
    const rows: { partition: number; taskId: string; body: Buffer; delivery: RabbitDelivery }[] = [];
    for (const delivery of batch) {
      try {
        const result = await decode(delivery.message.content, taskResultSchema);
        rows.push({ partition: partitionForKey(result.taskId, this.options.partitions), taskId: result.taskId, body: delivery.message.content, delivery });
      } catch (error) {
        this.log.warn('a message on the results queue is not a result; dead-lettered', { error });
        delivery.reject();
      }
    }
    for (let backoff = 200; rows.length > 0; backoff = Math.min(backoff * 2, 5_000)) {
      try {
        await insertResults(this.pool, this.tables, rows);
        break;
      } catch (error) {
        // Not acknowledged while PostgreSQL is away; stopping leaves them to RabbitMQ for the next broker.
        if (!this.running) return;
        this.log.warn('writing results to the inbox failed; trying again', { error: (error as Error).message });
        await sleep(backoff);
      }
    }
    for (const row of rows) row.delivery.ack();
    this.counters.resultsTaken += rows.length;
  }

}

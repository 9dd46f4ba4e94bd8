// The notifier for the custom broker: the same delivery as the Kafka notifier
// (settle-outcome.ts), reading DeliverOutcome orders from the broker's outbox table. A
// batch of orders is taken FOR UPDATE SKIP LOCKED in one transaction that lasts while they
// are delivered, so several notifiers share the work and a notifier killed mid-delivery
// leaves its orders to the next (sent again under the same delivery id); an order leaves
// the outbox in that transaction once settled, with its dead letter if it was given up.
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../core/log.js';
import type { NotifierSettings } from '../../core/webhook-config.js';
import { failureHeaders, DLQ_HEADERS, headersAsText } from '../../topics/dead-letter.js';
import { brokerTables, type BrokerTables } from '../broker/custom/tables.js';
import { inTransaction } from '../../core/pg-transaction.js';
import { settleOutcome, type NotifierStats, type Settled, type UndeliveredReports } from './settle-outcome.js';

const IDLE_POLL_MS = 500;

export interface OutboxNotifierOptions {
  databaseUrl: string;
  schema: string;
  settings: NotifierSettings;
  reports: UndeliveredReports;
  onStop?: () => Promise<void>;
}

interface OutboxRow {
  id: string;
  task_id: string;
  value: Buffer;
}

export class OutboxNotifier {
  private readonly tables: BrokerTables;
  private readonly pool: pg.Pool;
  private readonly stopping = new AbortController();
  private readonly log = createLogger({ component: 'notifier', broker: 'custom' });
  private readonly counters: NotifierStats = { delivered: 0, deadLettered: 0, failedTries: 0 };
  private loop: Promise<void> | undefined;

  constructor(private readonly options: OutboxNotifierOptions) {
    this.tables = brokerTables(options.schema);
    this.pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2, application_name: 'stackl-notifier' });
    this.pool.on('error', (error) => this.log.warn('idle PostgreSQL connection failed', { error: error.message }));
  }

  stats(): NotifierStats {
    return { ...this.counters };
  }

  start(): Promise<void> {
    if (this.options.settings.secret === undefined) this.log.warn('STACKL_WEBHOOK_SECRET is not set: deliveries go out unsigned');
    this.loop = this.run();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.pool.end();
    await this.options.onStop?.();
  }

  private async run(): Promise<void> {
    for (let backoff = 200; !this.stopping.signal.aborted; ) {
      try {
        const taken = await this.settleBatch();
        backoff = 200;
        if (taken === 0) await sleep(IDLE_POLL_MS, undefined, { signal: this.stopping.signal }).catch(() => {});
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        this.log.warn('delivering outcomes failed; trying again', { error: (error as Error).message });
        await sleep(backoff, undefined, { signal: this.stopping.signal }).catch(() => {});
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  /** One transaction: take up to `concurrency` orders, settle them side by side, delete what settled. */
  /** One transaction: take up to `concurrency` orders, settle them side by side, delete what settled. */
  private settleBatch(): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<OutboxRow>(`select id, task_id, value from ${this.tables.outbox} where queue = 'notifications' and sent_at is null order by id limit $1 for update skip locked`, [
        this.options.settings.concurrency,
      ]);
      const settled = await Promise.all(rows.map((row) => this.settle(client, row)));
      const done = rows.filter((_, i) => settled[i] === 'settled').map((row) => row.id);
      if (done.length > 0) await client.query(`delete from ${this.tables.outbox} where id = any($1::bigint[])`, [done]);
      return rows.length;
    });
  }

  private settle(client: pg.PoolClient, row: OutboxRow): Promise<Settled> {
    return settleOutcome(row.value, {
      settings: this.options.settings,
      signal: this.stopping.signal,
      log: this.log,
      counters: this.counters,
      // In the batch's transaction: the dead letter stands exactly when the order leaves the outbox.
      deadLetter: async (error, target) => {
        const headers = { ...headersAsText(failureHeaders(error)), [DLQ_HEADERS.app]: 'notifier', 'stackl.dlq.outbox-id': row.id, ...(target === undefined ? {} : { [DLQ_HEADERS.replyTarget]: target }) };
        await client.query(`insert into ${this.tables.deadLetters} (source, task_id, value, headers) values ('notifications', $1, $2, $3)`, [row.task_id, row.value, JSON.stringify(headers)]);
        return true;
      },
      report: async (taskId, report) => {
        for (let pauseMs = 100; !this.stopping.signal.aborted; pauseMs = Math.min(pauseMs * 2, 5_000)) {
          try {
            await this.options.reports.reportUndelivered(taskId, report);
            return true;
          } catch (error) {
            this.log.warn('sending the undelivered report failed; sending again', { error: (error as Error).message, pauseMs });
            await sleep(pauseMs, undefined, { signal: this.stopping.signal }).catch(() => {});
          }
        }
        return false;
      },
    });
  }
}


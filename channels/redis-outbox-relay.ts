// The custom broker's way to workers over Redis (its relay, as redis-relay.ts is the Kafka
// broker's): orders of the outbox table go onto the run and rollback lists as the JSON
// workers take, results from Redis go into the broker's inbox. Redis may restart empty, so
// an order stays in the outbox, marked sent, until its worker acknowledges it; when Redis'
// run id changes every sent order is sent again (attempts fence duplicates). Dead workers'
// orders are requeued by the reaper, as on the Kafka broker's relay.
import { WakeUp } from '../core/wake-up.js';
import { watchRelay } from './relay-metrics.js';
import pg from 'pg';
import { Redis } from 'ioredis';
import { insertResults, repeatSends, SEND_BATCH } from '../processors/broker/custom/outbox-work.js';
import { inTransaction } from '../core/pg-transaction.js';
import { createLogger } from '../core/log.js';
import { brokerTables, type BrokerTables } from '../processors/broker/custom/tables.js';
import { decode, encode, taskDispatchSchema, taskResultSchema, type TaskResultMessage } from '../schemas/index.js';
import { partitionForKey } from '../topics/partitioner.js';
import { redisChannelKeys, type RedisChannelKeys } from './redis-keys.js';
import { RedisReaper } from './redis-reaper.js';
import { moveResults, recoverResults } from './redis-results.js';
import { parseOrderAck, type QueuedOrder } from './relay-offsets.js';

const IDLE_POLL_MS = 500;
const HOUSEKEEPING_MS = 200;
/** What a queued order names as its source: the outbox row it came from. */
const OUTBOX_SOURCE = 'outbox';

export interface RedisOutboxRelayOptions {
  databaseUrl: string;
  schema: string;
  redisUrl: string;
  prefix: string;
  partitions: number;
}

export class RedisOutboxRelay {
  private readonly keys: RedisChannelKeys;
  private readonly tables: BrokerTables;
  private readonly pool: pg.Pool;
  private readonly commands: Redis;
  private readonly blocking: Redis;
  private readonly reaper: RedisReaper;
  private readonly log = createLogger({ component: 'outbox-relay', channel: 'redis' });
  private running = false;
  private unwatch: (() => void) | undefined;
  private loops: Promise<void>[] = [];
  private readonly wakeUp = new WakeUp();
  private redisRunId: string | undefined;
  readonly counters = { ordersSent: 0, resultsTaken: 0, ordersRequeued: 0, redisRestarts: 0 };

  constructor(private readonly options: RedisOutboxRelayOptions) {
    this.keys = redisChannelKeys(options.prefix);
    this.tables = brokerTables(options.schema);
    this.pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4, application_name: 'stackl-outbox-relay' });
    this.pool.on('error', (error) => this.log.warn('idle PostgreSQL connection failed', { error: error.message }));
    this.commands = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.blocking = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    for (const client of [this.commands, this.blocking]) client.on('error', (error) => this.log.warn('redis connection error', { error: error.message }));
    this.reaper = new RedisReaper(this.commands, this.keys, (source) => (source === 'rollbacks' ? this.keys.rollbackQueue : this.keys.queue), this.log);
  }

  async start(): Promise<void> {
    this.running = true;
    this.unwatch = watchRelay('custom-redis', () => ({ ...this.counters }));
    this.redisRunId = await this.runId();
    await recoverResults(this.commands, this.keys);
    this.loops = [this.repeat('sending orders', () => this.sendBatch(), IDLE_POLL_MS, true), this.repeat('housekeeping', () => this.housekeeping(), HOUSEKEEPING_MS, false), this.moveResults()];
  }

  wake(): void {
    this.wakeUp.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    this.wake();
    this.blocking.disconnect();
    await Promise.allSettled(this.loops);
    this.commands.disconnect();
    await this.pool.end();
  }

  /** Runs `step` until stopped: again at once when it found a full batch, else after `idleMs`. */
  /** Runs `step` until stopped; sends are woken by new orders, housekeeping keeps its own pace. */
  private repeat(what: string, step: () => Promise<number>, idleMs: number, wakeable: boolean): Promise<void> {
    return repeatSends(step, { running: () => this.running, wakeUp: wakeable ? this.wakeUp : new WakeUp(), idleMs, log: this.log, what });
  }

  /** Orders not yet sent onto their list, marked sent in the same transaction. */
  /** Orders not yet sent onto their list, marked sent in the same transaction. */
  private async sendBatch(): Promise<number> {
    const sent = await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string; queue: string; value: Buffer }>(
        `select id, queue, value from ${this.tables.outbox} where queue in ('runs', 'rollbacks') and sent_at is null order by id limit $1 for update skip locked`,
        [SEND_BATCH],
      );
      const byQueue = new Map<string, string[]>();
      for (const row of rows) {
        const entry: QueuedOrder = { source: { topic: row.queue === 'rollbacks' ? 'rollbacks' : OUTBOX_SOURCE, partition: 0, offset: row.id }, order: await decode(row.value, taskDispatchSchema) };
        const list = row.queue === 'rollbacks' ? this.keys.rollbackQueue : this.keys.queue;
        byQueue.set(list, [...(byQueue.get(list) ?? []), JSON.stringify(entry)]);
      }
      for (const [list, entries] of byQueue) await this.commands.lpush(list, ...entries);
      if (rows.length > 0) await client.query(`update ${this.tables.outbox} set sent_at = $2 where id = any($1::bigint[])`, [rows.map((r) => r.id), Date.now()]);
      return rows.length;
    });
    this.counters.ordersSent += sent;
    return sent;
  }

  /** Acknowledged orders leave the outbox; a Redis that restarted empty gets every sent order again; dead workers' orders are requeued. */
  private async housekeeping(): Promise<number> {
    const runId = await this.runId();
    if (runId !== this.redisRunId) {
      this.counters.redisRestarts += 1;
      this.redisRunId = runId;
      const { rowCount } = await this.pool.query(`update ${this.tables.outbox} set sent_at = null where queue in ('runs', 'rollbacks') and sent_at is not null`);
      this.log.warn('redis restarted; sending unacknowledged orders again', { orders: rowCount });
      this.wake();
      return 0;
    }
    const acks = (await this.commands.lpop(this.keys.acks, 10_000)) ?? [];
    const done = acks.map((ack) => parseOrderAck(ack, OUTBOX_SOURCE)).map((a) => a.offset.toString());
    if (done.length > 0) await this.pool.query(`delete from ${this.tables.outbox} where id = any($1::bigint[])`, [done]);
    this.counters.ordersRequeued += await this.reaper.reap();
    return 0;
  }

  /** Results: Redis → the inbox, removed from Redis only once their rows committed. */
  /** Results: Redis → the inbox, removed from Redis only once their rows committed. */
  private moveResults(): Promise<void> {
    return moveResults({ blocking: this.blocking, commands: this.commands, keys: this.keys, running: () => this.running, log: this.log, write: (batch) => this.insertResults(batch) });
  }

  private async insertResults(batch: string[]): Promise<void> {
    const rows: { partition: number; taskId: string; body: Buffer }[] = [];
    for (const raw of batch) {
      try {
        // Workers push JSON; the broker reads results as the Avro records of task.results.
        const result = JSON.parse(raw) as TaskResultMessage;
        rows.push({ partition: partitionForKey(result.taskId, this.options.partitions), taskId: result.taskId, body: encode(taskResultSchema, result) });
      } catch (error) {
        this.log.warn('a result on Redis does not parse; dropped', { error: (error as Error).message });
      }
    }
    await insertResults(this.pool, this.tables, rows);
    this.counters.resultsTaken += rows.length;
  }

  private async runId(): Promise<string | undefined> {
    const info = await this.commands.info('server');
    return /run_id:(\w+)/.exec(info)?.[1];
  }

}

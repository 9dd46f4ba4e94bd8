// The custom broker's way to workers when the channel is Kafka: orders of its outbox go to
// task.dispatch and task.rollbacks (partitioned by task id, as the Kafka broker writes
// them), replies to the reply topics tasks name as their origin, and workers' results come
// back from task.results into the inbox. An order leaves the outbox in the transaction that
// waited for Kafka's acknowledgement (rows taken FOR UPDATE SKIP LOCKED); a result's offset
// is committed only once its inbox row committed. A crash in between sends twice: attempts
// fence duplicate orders, and the broker ignores a result it has already decided.
import { WakeUp } from '../core/wake-up.js';
import type { Consumer, EachBatchPayload, Kafka, Message } from 'kafkajs';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { insertResults, repeatSends, SEND_BATCH } from '../processors/broker/custom/outbox-work.js';
import { inTransaction } from '../core/pg-transaction.js';
import { createLogger } from '../core/log.js';
import { isRefusal } from '../processors/runtime/failures.js';
import { brokerTables, type BrokerTables } from '../processors/broker/custom/tables.js';
import { failureHeaders, headersAsText } from '../topics/dead-letter.js';
import type { TopicNames } from '../topics/names.js';
import { partitionForKey } from '../topics/partitioner.js';
import { RenewingProducer } from '../topics/renewing-producer.js';
import { watchRelay } from './relay-metrics.js';

const IDLE_POLL_MS = 500;

export interface KafkaOutboxRelayOptions {
  kafka: Kafka;
  databaseUrl: string;
  schema: string;
  topics: TopicNames;
  partitions: number;
  groupId: string;
}

interface OutboxRow {
  id: string;
  queue: string;
  task_id: string;
  value: Buffer;
}

export class KafkaOutboxRelay {
  private readonly tables: BrokerTables;
  private readonly pool: pg.Pool;
  private readonly producer: RenewingProducer;
  private readonly consumer: Consumer;
  private readonly log = createLogger({ component: 'outbox-relay', channel: 'kafka' });
  private running = false;
  private sending: Promise<void> | undefined;
  private readonly wakeUp = new WakeUp();
  private unwatch: (() => void) | undefined;
  readonly counters = { ordersSent: 0, repliesSent: 0, resultsTaken: 0, deadLettered: 0 };

  constructor(private readonly options: KafkaOutboxRelayOptions) {
    this.tables = brokerTables(options.schema);
    this.pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4, application_name: 'stackl-outbox-relay' });
    this.pool.on('error', (error) => this.log.warn('idle PostgreSQL connection failed', { error: error.message }));
    this.producer = new RenewingProducer(options.kafka);
    this.consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 50, sessionTimeout: 10_000, heartbeatInterval: 3_000 });
  }

  async start(): Promise<void> {
    this.running = true;
    this.unwatch = watchRelay('custom-kafka', () => ({ ...this.counters }));
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.options.topics.results], fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.takeResults(payload) });
    this.sending = this.sendLoop();
  }

  wake(): void {
    this.wakeUp.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    this.wake();
    await this.sending;
    await this.consumer.disconnect();
    await this.producer.disconnect();
    await this.pool.end();
  }

  private sendLoop(): Promise<void> {
    return repeatSends(() => this.sendBatch(), { running: () => this.running, wakeUp: this.wakeUp, idleMs: IDLE_POLL_MS, log: this.log, what: 'sending orders' });
  }

  /** One transaction: take orders and replies, write them to Kafka, delete them; a refused one becomes a dead letter. */
  /** One transaction: take orders and replies, write them to Kafka, delete them; a refused one becomes a dead letter. */
  private async sendBatch(): Promise<number> {
    const rows = await inTransaction(this.pool, async (client) => {
      const { rows: taken } = await client.query<OutboxRow>(
        `delete from ${this.tables.outbox} where id in (select id from ${this.tables.outbox} where (queue in ('runs', 'rollbacks') or queue like 'reply:%') and sent_at is null order by id limit $1 for update skip locked) returning id, queue, task_id, value`,
        [SEND_BATCH],
      );
      for (const row of taken) {
        try {
          await this.producer.send({ topic: this.topicOf(row.queue), acks: -1, messages: [this.messageOf(row)] });
        } catch (error) {
          // Kafka will never take it (too large, a topic nobody may write): kept aside, the rest goes on.
          if (!isRefusal(error)) throw error;
          await client.query(`insert into ${this.tables.deadLetters} (source, task_id, value, headers) values ($1, $2, $3, $4)`, [row.queue, row.task_id, row.value, JSON.stringify(headersAsText(failureHeaders(error)))]);
          this.counters.deadLettered += 1;
        }
      }
      return taken;
    });
    for (const row of rows) this.counters[row.queue.startsWith('reply:') ? 'repliesSent' : 'ordersSent'] += 1;
    return rows.length;
  }

  private topicOf(queue: string): string {
    if (queue === 'runs') return this.options.topics.dispatch;
    if (queue === 'rollbacks') return this.options.topics.rollbacks;
    return queue.slice('reply:'.length);
  }

  /** Orders on the task's partition of the co-partitioned topics; a reply wherever its topic's partitioner puts the key. */
  private messageOf(row: OutboxRow): Message {
    const order = row.queue === 'runs' || row.queue === 'rollbacks';
    return { key: row.task_id, value: row.value, ...(order ? { partition: partitionForKey(row.task_id, this.options.partitions) } : {}) };
  }

  /** Results into the inbox of their task's partition, then their offsets committed. */
  private async takeResults({ batch, resolveOffset, commitOffsetsIfNecessary, isStale }: EachBatchPayload): Promise<void> {
    if (isStale() || batch.messages.length === 0) return;
    const rows = batch.messages.map((m) => ({ taskId: m.key?.toString() ?? '', body: m.value ?? Buffer.alloc(0) }));
    for (let backoff = 200; ; backoff = Math.min(backoff * 2, 5_000)) {
      try {
        // The broker decodes and checks each result; one that does not decode is dead-lettered there.
        await insertResults(this.pool, this.tables, rows.map((r) => ({ ...r, partition: partitionForKey(r.taskId, this.options.partitions) })));
        break;
      } catch (error) {
        if (!this.running || isStale()) return;
        this.log.warn('writing results to the inbox failed; trying again', { error: (error as Error).message });
        await sleep(backoff);
      }
    }
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    this.counters.resultsTaken += rows.length;
  }

}


// The `custom` broker's producer side: a request becomes a row of the inbox of its task's
// partition (the Kafka broker's task.requests), committed before the receipt is given,
// and a NOTIFY wakes the broker that owns the partition. The receipt's position is the
// row's id: the request is decided once its row has left the inbox.
import pg from 'pg';
import { createLogger } from '../../../core/log.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { cancelMessage, encodedRequest, retryRollbackMessage, submitMessage, undeliveredMessage, type EncodedRequest } from '../request-messages.js';
import type { OperatorRequest, Receipt, SubmitRequest, TaskCommands } from '../task-broker.js';
import { brokerTables, type BrokerTables } from './tables.js';

/** The position's topic name for the inbox: what receipts of the custom broker name. */
export const INBOX_TOPIC = 'inbox';

export class InboxClient implements TaskCommands {
  private readonly tables: BrokerTables;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly partitions: number;

  constructor(options: { databaseUrl?: string; pool?: pg.Pool; schema: string; partitions: number }) {
    this.tables = brokerTables(options.schema);
    this.ownsPool = options.pool === undefined;
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.databaseUrl, max: 4, application_name: 'stackl-inbox-client' });
    if (this.ownsPool) this.pool.on('error', (error) => createLogger({ component: 'inbox-client' }).warn('idle PostgreSQL connection failed', { error: error.message }));
    this.partitions = options.partitions;
  }

  async submit(request: SubmitRequest): Promise<Receipt> {
    const [receipt] = await this.insert([encodedRequest(submitMessage(request))]);
    return receipt as Receipt;
  }

  async submitMany(requests: SubmitRequest[]): Promise<Receipt[]> {
    return this.insert(requests.map((r) => encodedRequest(submitMessage(r))));
  }

  async cancel(taskId: string, request: OperatorRequest = {}): Promise<Receipt> {
    const [receipt] = await this.insert([encodedRequest(cancelMessage(taskId, request))]);
    return receipt as Receipt;
  }

  async retryRollback(taskId: string, request: OperatorRequest = {}): Promise<Receipt> {
    const [receipt] = await this.insert([encodedRequest(retryRollbackMessage(taskId, request))]);
    return receipt as Receipt;
  }

  async reportUndelivered(taskId: string, report: { target: string; code: string; message: string; causationId: string }): Promise<Receipt> {
    const [receipt] = await this.insert([encodedRequest(undeliveredMessage(taskId, report))]);
    return receipt as Receipt;
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /** One statement: the rows, in order, and a NOTIFY per partition they landed on. */
  private async insert(requests: EncodedRequest[]): Promise<Receipt[]> {
    const partitions = requests.map((r) => partitionForKey(r.taskId, this.partitions));
    const { rows } = await this.pool.query<{ id: string; partition: number; task_id: string }>(
      `with added as (
         insert into ${this.tables.inbox} (partition, task_id, source, body)
         select p, t, 'request', b from unnest($1::int[], $2::text[], $3::bytea[]) with ordinality as r(p, t, b, n) order by n
         returning id, partition, task_id),
       woken as (select pg_notify($4, partition::text) from (select distinct partition from added) as d)
       select id, partition, task_id from added, (select count(*) from woken) as w order by id`,
      [partitions, requests.map((r) => r.taskId), requests.map((r) => r.value), this.tables.inboxChannel],
    );
    return rows.map((row) => ({ taskId: row.task_id, position: { topic: INBOX_TOPIC, partition: row.partition, offset: row.id } }));
  }
}

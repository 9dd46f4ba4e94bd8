// The API's reads of the projection. Every value reaches PostgreSQL as a bind
// parameter; the only text spliced into SQL is the schema name, quoted as an identifier.
import pg from 'pg';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { ListQuery, TaskBody, TaskEventBody } from './schemas.js';
import { toTask, toTaskEvent, type TaskEventRow, type TaskRow } from './task-row.js';

export interface TaskPage {
  items: TaskBody[];
  nextCursor: string | null;
}

export interface Throughput {
  bucketSeconds: number;
  buckets: Array<{ at: string; submitted: number; completed: number; failed: number }>;
  latencyMs: { p50: number | null; p99: number | null; completed: number };
}

const CURSOR_AT = `to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`;

export class TaskStore {
  private readonly tasks: string;
  private readonly eventsTable: string;

  constructor(private readonly pool: pg.Pool, schema: string) {
    const quoted = pg.escapeIdentifier(schema);
    this.tasks = `${quoted}.tasks`;
    this.eventsTable = `${quoted}.task_events`;
  }

  async get(id: string): Promise<TaskBody | null> {
    const { rows } = await this.pool.query<TaskRow>(`select * from ${this.tasks} where id = $1`, [id]);
    return rows[0] === undefined ? null : toTask(rows[0]);
  }

  async exists(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`select 1 from ${this.tasks} where id = $1`, [id]);
    return (rowCount ?? 0) > 0;
  }

  /** Newest first; the cursor continues after the last row served. */
  async list(query: ListQuery): Promise<TaskPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const bind = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.status !== undefined) where.push(`status = ${bind(query.status)}`);
    if (query.kind !== undefined) where.push(`kind = ${bind(query.kind)}`);
    if (query.rollback !== undefined) where.push(`rollback = ${bind(query.rollback)}`);
    if (query.origin !== undefined) where.push(`origin_target = ${bind(query.origin)}`);
    if (query.createdAfter !== undefined) where.push(`created_at >= ${bind(query.createdAfter)}::timestamptz`);
    if (query.createdBefore !== undefined) where.push(`created_at < ${bind(query.createdBefore)}::timestamptz`);
    if (query.cursor !== undefined) {
      const after = decodeCursor(query.cursor);
      where.push(`(created_at, id) < (${bind(after.createdAt)}::timestamptz, ${bind(after.id)}::uuid)`);
    }
    // One row more than asked says whether another page exists, without a count.
    const sql = `select *, ${CURSOR_AT} from ${this.tasks} ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
                 order by created_at desc, id desc limit ${bind(query.limit + 1)}`;
    const { rows } = await this.pool.query<TaskRow>(sql, params);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const more = rows.length > query.limit && last?.cursor_at !== undefined;
    return { items: page.map(toTask), nextCursor: more ? encodeCursor({ createdAt: last.cursor_at as string, id: last.id }) : null };
  }

  /** Every event of the task in log order (a task expunged and submitted again restarts its sequence); empty when none. */
  async events(id: string): Promise<TaskEventBody[]> {
    const { rows } = await this.pool.query<TaskEventRow>(`select * from ${this.eventsTable} where task_id = $1 order by partition, "offset"`, [id]);
    return rows.map(toTaskEvent);
  }

  /** Tasks whose row changed at or after `since` (an ISO time), oldest change first: what GET /tasks/live sends. */
  async changedSince(since: string, limit: number): Promise<TaskBody[]> {
    const { rows } = await this.pool.query<TaskRow>(`select * from ${this.tasks} where updated_at >= $1::timestamptz order by updated_at, id limit $2`, [since, limit]);
    return rows.map(toTask);
  }

  /**
   * Tasks submitted, completed and failed per bucket over the last `minutes`, and the
   * submit-to-completion latency of those completed. A task's settling time is its row's
   * updated_at: exact for a completed task, the last rollback event's for a failed one.
   */
  async throughput(minutes: number, bucketSeconds: number): Promise<Throughput> {
    const since = `now() - make_interval(mins => $1::int)`;
    const bucket = (column: string) => `(floor(extract(epoch from ${column}) / $2::int) * $2::int)::bigint`;
    const [created, settled, latency] = await Promise.all([
      this.pool.query<{ at: string; n: string }>(`select ${bucket('created_at')} as at, count(*) as n from ${this.tasks} where created_at >= ${since} group by 1`, [minutes, bucketSeconds]),
      this.pool.query<{ at: string; status: string; n: string }>(
        `select ${bucket('updated_at')} as at, status, count(*) as n from ${this.tasks} where updated_at >= ${since} and status in ('Completed', 'Failed') group by 1, 2`,
        [minutes, bucketSeconds],
      ),
      this.pool.query<{ p50: number | null; p99: number | null; n: string }>(
        `select percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.99) within group (order by ms) as p99, count(*) as n
           from (select extract(epoch from updated_at - created_at) * 1000 as ms from ${this.tasks} where status = 'Completed' and updated_at >= ${since}) done`,
        [minutes],
      ),
    ]);
    const buckets = new Map<number, { submitted: number; completed: number; failed: number }>();
    const at = (epoch: string) => buckets.get(Number(epoch)) ?? buckets.set(Number(epoch), { submitted: 0, completed: 0, failed: 0 }).get(Number(epoch))!;
    for (const r of created.rows) at(r.at).submitted = Number(r.n);
    for (const r of settled.rows) at(r.at)[r.status === 'Completed' ? 'completed' : 'failed'] = Number(r.n);
    const row = latency.rows[0];
    return {
      bucketSeconds,
      buckets: [...buckets.entries()].sort(([a], [b]) => a - b).map(([epoch, counts]) => ({ at: new Date(epoch * 1000).toISOString(), ...counts })),
      latencyMs: { p50: row?.p50 ?? null, p99: row?.p99 ?? null, completed: Number(row?.n ?? 0) },
    };
  }

  /** Task counts by status, for /metrics. */
  async countByStatus(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ status: string; count: string }>(`select status, count(*) as count from ${this.tasks} group by status`);
    return new Map(rows.map((r) => [r.status, Number(r.count)]));
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }
}

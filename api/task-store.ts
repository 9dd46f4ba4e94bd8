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

  /** Task counts by status, for /metrics. */
  async countByStatus(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ status: string; count: string }>(`select status, count(*) as count from ${this.tasks} group by status`);
    return new Map(rows.map((r) => [r.status, Number(r.count)]));
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }
}

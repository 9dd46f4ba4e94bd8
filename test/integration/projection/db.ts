// Reads a projection schema back for assertions: one task's row, its history, or a
// whole table as plain JSON (to compare snapshots taken before and after something).
import pg from 'pg';
import { testDatabaseUrl } from '../../support/postgres.js';

export type Row = Record<string, unknown>;

export class ProjectionDb {
  readonly pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 3 });

  constructor(readonly schema: string) {}

  private get s(): string {
    return pg.escapeIdentifier(this.schema);
  }

  /** The task's row with times as epoch ms and jsonb as values; undefined when there is none. */
  async task(id: string): Promise<Row | undefined> {
    const { rows } = await this.pool.query<Row>(
      `select t.*, (extract(epoch from created_at) * 1000)::float8 as created_ms, (extract(epoch from updated_at) * 1000)::float8 as updated_ms,
              (extract(epoch from retry_at) * 1000)::float8 as retry_ms, (extract(epoch from deadline_at) * 1000)::float8 as deadline_ms
       from ${this.s}.tasks t where id = $1`,
      [id],
    );
    return rows[0];
  }

  /** The task's events in log order. */
  async events(taskId: string): Promise<Row[]> {
    const { rows } = await this.pool.query<Row>(`select * from ${this.s}.task_events where task_id = $1 order by partition, "offset"`, [taskId]);
    return rows;
  }

  /** A whole table as JSON rows in key order: equal snapshots mean nothing changed. */
  async snapshot(table: 'tasks' | 'task_events'): Promise<Row[]> {
    const order = table === 'tasks' ? 'id' : 'partition, "offset"';
    const { rows } = await this.pool.query<{ row: Row }>(`select to_jsonb(x) as row from ${this.s}.${table} x order by ${order}`);
    return rows.map((r) => r.row);
  }

  async count(table: 'tasks' | 'task_events'): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`select count(*) as n from ${this.s}.${table}`);
    return Number(rows[0]?.n ?? 0);
  }

  async query<R extends Row>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql.replaceAll('$schema', this.s), params)).rows;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

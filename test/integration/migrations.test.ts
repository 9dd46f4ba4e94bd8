// The migration runner on the real PostgreSQL: applies in order, once, refuses
// edited history, and stays correct when several processes start at once.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, MigrationError } from '../../deploy/migrations/runner.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

const schemas: string[] = [];
function freshSchema(label: string): string {
  const schema = uniqueSchema(label);
  schemas.push(schema);
  return schema;
}
afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('migrate', () => {
  it('applies every migration into a fresh schema, and nothing the second time', async () => {
    const schema = freshSchema('migrate');
    const all = loadMigrations().map((m) => m.version);
    expect(await migrate(testDatabaseUrl(), schema)).toEqual({ schema, applied: all, alreadyApplied: [] });
    expect(await migrate(testDatabaseUrl(), schema)).toEqual({ schema, applied: [], alreadyApplied: all });

    const tables = await query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1 order by 1', [schema]);
    expect(tables.map((t) => t.table_name)).toEqual(['broker_dead_letters', 'broker_events', 'broker_inbox', 'broker_kinds', 'broker_members', 'broker_outbox', 'broker_partitions', 'broker_tasks', 'document_snapshots', 'documents', 'projection_dead_letters', 'projection_offsets', 'schema_migrations', 'task_events', 'task_fences', 'task_journal', 'tasks']);
  });

  it('applies each migration exactly once when several processes start together', async () => {
    const schema = freshSchema('race');
    const reports = await Promise.all(Array.from({ length: 5 }, () => migrate(testDatabaseUrl(), schema)));
    const appliedCounts = reports.map((r) => r.applied.length);
    expect(appliedCounts.filter((n) => n > 0)).toEqual([loadMigrations().length]);
    const rows = await query<{ count: string }>(`select count(*) from ${pg.escapeIdentifier(schema)}.schema_migrations`);
    expect(Number(rows[0]?.count)).toBe(loadMigrations().length);
  });

  it('really writes: the tasks table takes a row and enforces the status vocabulary', async () => {
    const schema = freshSchema('write');
    await migrate(testDatabaseUrl(), schema);
    const table = `${pg.escapeIdentifier(schema)}.tasks`;
    const insert = `insert into ${table} (id, kind, action, status, idempotency_key, payload, created_at, updated_at, last_sequence)
                    values ($1::uuid, 'probe', 'run', $2, $1::text, '{}', now(), now(), 0)`;
    await query(insert, ['0190f5d2-7a3c-7cc1-8d2e-3f4a5b6c7d8e', 'Available']);
    const rows = await query<{ status: string }>(`select status from ${table}`);
    expect(rows).toEqual([{ status: 'Available' }]);
    await expect(query(insert, ['0190f5d2-7a3c-7cc1-8d2e-3f4a5b6c7d8f', 'Running'])).rejects.toThrow(/check constraint/);
  });

  it('refuses to run when an applied migration was edited afterwards', async () => {
    const schema = freshSchema('edited');
    const migrations = loadMigrations();
    await migrate(testDatabaseUrl(), schema, migrations);
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: `${m.checksum}x` } : m));
    const error = await migrate(testDatabaseUrl(), schema, edited).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/changed after it was applied/);
  });

  it('rolls back a failing migration completely', async () => {
    const schema = freshSchema('failing');
    const broken = [...loadMigrations(), { version: loadMigrations().length + 1, name: 'broken', sql: 'create table ok_table (id int); select * from no_such_table;', checksum: 'x' }];
    await expect(migrate(testDatabaseUrl(), schema, broken)).rejects.toThrow(/no_such_table/);
    const tables = await query('select 1 from information_schema.tables where table_schema = $1', [schema]);
    expect(tables).toEqual([]);
  });
});

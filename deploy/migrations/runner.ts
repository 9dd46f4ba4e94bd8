// Applies the numbered SQL files of this folder, in order, each at most once.
// Files are append-only: a file that changed after it was applied stops the runner.
// Safe when several processes start at once: all pending files apply in one
// transaction under an advisory lock, so the second process waits, then finds
// nothing left to do.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { StacklError } from '../../core/errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends StacklError {
  constructor(message: string) {
    super('MIGRATION_INVALID', message, { retriable: false });
  }
}

/** The folder holding the .sql files (the build copies them beside the compiled runner). */
export function migrationsDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const migrations = files.map((file) => {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new MigrationError(`migration file "${file}" is not named NNNN_name.sql`);
    const sql = readFileSync(join(dir, file), 'utf8');
    return { version: Number(match[1]), name: match[2] ?? file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new MigrationError(`migrations must be numbered 0001, 0002, … without gaps; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

export interface MigrateReport {
  schema: string;
  applied: number[];
  alreadyApplied: number[];
}

export async function migrate(databaseUrl: string, schema: string, migrations = loadMigrations()): Promise<MigrateReport> {
  const client = new pg.Client({ connectionString: databaseUrl });
  // A connection that dies between two queries emits 'error'; unheard, it would end the
  // process. The next query fails with it, which is what the caller hears.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('begin');
    // Lock first: even `create schema if not exists` races when two processes start together.
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`stackl.migrate:${schema}`]);
    const quoted = pg.escapeIdentifier(schema);
    await client.query(`create schema if not exists ${quoted}`);
    await client.query(`set local search_path to ${quoted}`);
    await client.query(
      `create table if not exists schema_migrations (
         version integer primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())`,
    );
    const applied = new Map<number, string>(
      (await client.query<{ version: number; checksum: string }>('select version, checksum from schema_migrations')).rows.map((r) => [r.version, r.checksum]),
    );
    const report: MigrateReport = { schema, applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      const checksum = applied.get(migration.version);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new MigrationError(`migration ${migration.version} (${migration.name}) changed after it was applied; migrations are append-only: add a new file instead`);
        }
        report.alreadyApplied.push(migration.version);
        continue;
      }
      await client.query(migration.sql);
      await client.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
      report.applied.push(migration.version);
    }
    const unknown = [...applied.keys()].filter((v) => !migrations.some((m) => m.version === v));
    if (unknown.length > 0) throw new MigrationError(`schema ${schema} has migrations this build does not know (${unknown.join(', ')}); run a newer STACKL`);
    await client.query('commit');
    return report;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

/** What a role does with migrations at start (STACKL_MIGRATE): apply them, or only check. */
export type MigrateMode = 'auto' | 'off';

/**
 * `auto` applies what is pending (the role's database user needs CREATE rights); `off`
 * applies nothing and refuses to start, naming the first missing migration, when the
 * schema is behind this build (run `stackl migrate` as a job before the deploy).
 */
export async function ensureMigrated(databaseUrl: string, schema: string, mode: MigrateMode, migrations = loadMigrations()): Promise<void> {
  if (mode === 'auto') {
    await migrate(databaseUrl, schema, migrations);
    return;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  // A connection that dies between two queries emits 'error'; the next query fails with it.
  client.on('error', () => {});
  await client.connect();
  try {
    const table = await client.query<{ exists: boolean }>('select to_regclass($1) is not null as exists', [`${pg.escapeIdentifier(schema)}.schema_migrations`]);
    const applied = new Set<number>();
    if (table.rows[0]?.exists === true) {
      for (const row of (await client.query<{ version: number }>(`select version from ${pg.escapeIdentifier(schema)}.schema_migrations`)).rows) applied.add(row.version);
    }
    const missing = migrations.filter((m) => !applied.has(m.version));
    const first = missing[0];
    if (first !== undefined) {
      const name = `${String(first.version).padStart(4, '0')}_${first.name}`;
      throw new MigrationError(`schema ${schema} lacks migration ${name}${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}; STACKL_MIGRATE=off applies none at start: run \`stackl migrate\` first`);
    }
  } finally {
    await client.end();
  }
}

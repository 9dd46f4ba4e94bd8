// Each integration test file gets a PostgreSQL schema of its own, dropped afterwards,
// so files run in parallel against one database without seeing each other's rows.
import pg from 'pg';
import { loadConfig } from '../../core/config.js';
import { token } from './names.js';

export function testDatabaseUrl(): string {
  return loadConfig().databaseUrl;
}

export function uniqueSchema(label: string): string {
  return `t_${label.replace(/[^a-z0-9]/g, '_')}_${token()}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
  } finally {
    await client.end();
  }
}

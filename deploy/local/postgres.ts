// PostgreSQL for the local stack: use the one answering at DATABASE_URL; when none
// answers on this machine, start the Debian cluster that is installed; say plainly
// what is missing otherwise. Creates the target database when it does not exist.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { ServiceUnavailableError } from '../../core/errors.js';
import { isLoopback, waitUntil } from './wait.js';

/** Connects to the server's maintenance database, so a missing target database is not "unreachable". */
function maintenanceUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

/** True when the server takes a connection and answers a query, each within `timeoutMs`. */
export async function postgresAnswers(databaseUrl: string, timeoutMs = 1500): Promise<boolean> {
  const client = new pg.Client({ connectionString: maintenanceUrl(databaseUrl), connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  // A connection that dies in the middle emits 'error'; the answer is then simply "no".
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (name === '' || name === 'postgres') return;
  const client = new pg.Client({ connectionString: maintenanceUrl(databaseUrl) });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      // Two processes may race here; the loser's "already exists" is harmless.
      await client.query(`create database ${pg.escapeIdentifier(name)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** Finds an installed Debian cluster ("15 main") that pg_ctlcluster can start. */
function localCluster(): { version: string; name: string } | undefined {
  const root = '/etc/postgresql';
  if (!existsSync(root)) return undefined;
  for (const version of readdirSync(root).sort().reverse()) {
    if (existsSync(`${root}/${version}/main`)) return { version, name: 'main' };
  }
  return undefined;
}

/** Returns true when this call started PostgreSQL (so `down` may stop it again). */
export async function ensurePostgres(databaseUrl: string, onProgress: (m: string) => void): Promise<boolean> {
  let started = false;
  if (!(await postgresAnswers(databaseUrl))) {
    const host = new URL(databaseUrl).hostname;
    const cluster = localCluster();
    if (!isLoopback(host) || cluster === undefined) {
      throw new ServiceUnavailableError(
        'postgres',
        `PostgreSQL does not answer at ${redact(databaseUrl)}` +
          (isLoopback(host) ? ' and no local cluster is installed (apt-get install postgresql), ' : ', ') +
          'so the stack cannot start. Start it, or set DATABASE_URL to one that runs.',
      );
    }
    onProgress(`PostgreSQL not answering; starting local cluster ${cluster.version}/${cluster.name}`);
    const result = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, 'start'], { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new ServiceUnavailableError('postgres', `pg_ctlcluster could not start PostgreSQL: ${(result.stderr || result.stdout || String(result.error)).trim()}`);
    }
    await waitUntil(() => postgresAnswers(databaseUrl), 30_000, 'PostgreSQL did not answer 30 s after pg_ctlcluster start');
    started = true;
  }
  await ensureDatabase(databaseUrl);
  return started;
}

export function stopLocalPostgres(): void {
  const cluster = localCluster();
  if (cluster) spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, 'stop'], { stdio: 'ignore' });
}

export function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

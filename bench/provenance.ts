// Where a figure came from, recorded with every result so a number in the README can be
// traced to a commit and a machine state: the commit and whether the tree differed from
// it, the versions that matter, the settings a run was given, and how busy the machine
// was when the run began and ended (a figure taken at load 12 is not a quiet one).
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import pg from 'pg';
import { loadConfig } from '../core/config.js';

export interface Provenance {
  commit: string;
  /** The working tree had changes the commit does not hold. */
  dirty: boolean;
  node: string;
  /** The Kafka release the local stack runs (STACKL_KAFKA_VERSION); brokers elsewhere are not asked. */
  kafka: string;
  postgres: string;
  /** STACKL_*, BENCH_*, OVERLOAD_* and KAFKA_BROKERS as the run saw them (secrets left out). */
  settings: Record<string, string>;
}

export async function provenance(env: Record<string, string | undefined> = process.env): Promise<Provenance> {
  const config = loadConfig(env);
  return {
    commit: git(['rev-parse', 'HEAD']) ?? 'unknown',
    dirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
    node: process.version,
    kafka: config.kafkaVersion,
    postgres: await postgresVersion(config.databaseUrl),
    settings: runSettings(env),
  };
}

/** The one-minute load average, rounded: taken when a run starts and when it ends. */
export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

const SECRET = /PASSWORD|KEYS?$|SECRET|TOKEN/;

function runSettings(env: Record<string, string | undefined>): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === undefined || !/^(STACKL_|BENCH_|OVERLOAD_|KAFKA_BROKERS$)/.test(name)) continue;
    settings[name] = SECRET.test(name) ? '(set)' : value;
  }
  return settings;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function postgresVersion(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('show server_version');
    return rows[0]?.server_version ?? 'unknown';
  } catch (error) {
    return `unreachable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

// The `custom` broker as separate processes (`stackl broker` with STACKL_BROKER=custom):
// two brokers share the partitions; one killed -9 in the middle of a run frees its
// partitions with its connections and the other takes them, so every task still ends
// exactly once and the log keeps no gap; PostgreSQL dropping every broker connection is
// survived the same way.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { InboxClient } from '../../../processors/broker/custom/inbox-client.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { rabbitUrl } from '../../support/rabbitmq-server.js';
import { RoleProcess } from '../../support/role-process.js';
import { TableEventLog } from '../../support/table-event-log.js';

const PARTITIONS = 6;
const schema = uniqueSchema('custom_crash');
const env = {
  STACKL_TOPIC_PREFIX: uniquePrefix('custom-crash'),
  STACKL_PARTITIONS: String(PARTITIONS),
  STACKL_DB_SCHEMA: schema,
  STACKL_BROKER: 'custom',
  STACKL_CHANNEL: 'rabbitmq',
  RABBITMQ_URL: rabbitUrl(),
  DATABASE_URL: testDatabaseUrl(),
};
const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
const log = new TableEventLog(pool, schema);
const client = new InboxClient({ pool, schema, partitions: PARTITIONS });
const brokers: RoleProcess[] = [];
let worker: Worker;

const startBroker = async (): Promise<RoleProcess> => {
  const role = new RoleProcess('broker', env, /custom broker .* ready/);
  await role.start();
  brokers.push(role);
  return role;
};

/** Which broker holds each partition's lock now (its connection is named after it). */
async function owners(): Promise<Map<number, string>> {
  const { rows } = await pool.query<{ partition: number; name: string }>(
    `select l.objid::int as partition, a.application_name as name from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'advisory' and l.granted and l.objsubid = 2 and l.classid = hashtext($1)::oid`,
    [`stackl.custom-broker:${schema}`],
  );
  return new Map(rows.map((r) => [r.partition, r.name.split(' ')[1] ?? r.name]));
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await check()); await new Promise((resolve) => setTimeout(resolve, 200))) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
  }
}

const ended = (id: string) => ['TaskCompleted', 'RollbackSucceeded'].includes(log.types(id).at(-1) ?? '');

async function expectEachEndedOnceWithoutGaps(ids: string[]): Promise<void> {
  await log.waitForAll(() => ids.every(ended), 90_000, () => `${ids.filter((id) => !ended(id)).length} of ${ids.length} not ended`);
  for (const id of ids) expect(log.types(id).filter((t) => t === 'TaskCompleted' || t === 'TaskFailed'), id).toHaveLength(1);
  const rows = await log.rows();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const offsets = rows.filter((r) => r.partition === partition).map((r) => r.offset);
    expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)));
  }
  // No event written twice: (task, sequence) is unique.
  const seen = rows.map((r) => `${r.event.taskId}#${r.event.sequence}`);
  expect(new Set(seen).size).toBe(seen.length);
}

beforeAll(async () => {
  await migrate(testDatabaseUrl(), schema);
  await startBroker();
  worker = await startWorker(loadConfig({ ...process.env, ...env }), { ...env, STACKL_WORKER_CONCURRENCY: '8' });
  log.start();
}, 120_000);
afterAll(async () => {
  await log.stop();
  await worker?.stop();
  await Promise.all(brokers.map((b) => b.kill('SIGTERM')));
  await client.close();
  await pool.end();
  await dropSchema(schema);
});

describe('custom broker processes', () => {
  it('share the partitions between two brokers', { timeout: 60_000 }, async () => {
    await startBroker();
    await until(async () => {
      const held = await owners();
      return held.size === PARTITIONS && new Set(held.values()).size === 2;
    }, 'both brokers holding a share of all partitions');
  });

  it('lose no task and end none twice when a broker is killed -9 mid-run', { timeout: 120_000 }, async () => {
    const receipts = await client.submitMany(Array.from({ length: 120 }, (_, i) => ({ kind: 'probe', action: 'run', payload: { outcome: i % 5 === 0 ? 'fail' : 'succeed', durationMs: 200 }, timeoutMs: 60_000 })));
    const ids = receipts.map((r) => r.taskId);
    await log.waitForAll(() => ids.filter(ended).length >= 20, 30_000, () => 'first tasks ended');
    await brokers[0]?.kill('SIGKILL');
    await until(async () => (await owners()).size === PARTITIONS, 'the survivor holding every partition');
    await expectEachEndedOnceWithoutGaps(ids);
  });

  it('go on when PostgreSQL drops every broker connection', { timeout: 120_000 }, async () => {
    const receipts = await client.submitMany(Array.from({ length: 60 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 200 }, timeoutMs: 60_000 })));
    const ids = receipts.map((r) => r.taskId);
    await log.waitForAll(() => ids.filter(ended).length >= 10, 30_000, () => 'first tasks ended');
    await pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'stackl-custom-broker %' and datname = current_database()`);
    await expectEachEndedOnceWithoutGaps(ids);
    await until(async () => (await owners()).size === PARTITIONS, 'every partition held again');
  });
});

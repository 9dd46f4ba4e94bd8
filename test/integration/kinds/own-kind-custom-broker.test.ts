// A kind of the user's own under the custom broker: the registry is the table
// broker_kinds, written by createWorker in the same transaction that checks the change,
// read by the broker (again before it refuses an unknown kind) and by the API.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { build, type StacklApi } from '../../../api/app.js';
import { createApiDeps, type OwnedApiDeps } from '../../../api/deps-factory.js';
import { loadConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { createWorker, defineKind, implement, TaskFailure } from '../../../index.js';
import { InboxClient } from '../../../processors/broker/custom/inbox-client.js';
import { startCustomBroker, type RunningCustomBroker } from '../../../processors/broker/custom/start-custom-broker.js';
import type { Worker } from '../../../workers/worker.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { TableEventLog } from '../../support/table-event-log.js';

const schema = uniqueSchema('own_kind_custom');
const env = { ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('own-kind-custom'), STACKL_PARTITIONS: '2', STACKL_DB_SCHEMA: schema, STACKL_BROKER: 'custom', STACKL_CHANNEL: 'kafka', DATABASE_URL: testDatabaseUrl() };
const config = loadConfig(env);
const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
const log = new TableEventLog(pool, schema);
const client = new InboxClient({ pool, schema, partitions: config.partitions });

const counter = defineKind({
  name: 'counter',
  actions: ['add'],
  payload: z.strictObject({ by: z.number().int().min(1).max(100) }),
  rollback: 'compensate',
});
let total = 0;
const served = implement(counter, {
  async run(payload) {
    total += payload.by;
    if (payload.by === 13) throw new TaskFailure('unlucky', { retriable: false });
    return { total };
  },
  async rollback(payload) {
    total -= payload.by;
  },
});

let broker: RunningCustomBroker;
let worker: Worker;
let owned: OwnedApiDeps;
let api: StacklApi;

beforeAll(async () => {
  await migrate(testDatabaseUrl(), schema);
  broker = await startCustomBroker(config, {}, env);
  owned = await createApiDeps(config);
  api = build(owned.deps);
  await api.ready();
  log.start();
  worker = await createWorker({ kinds: [served], env, concurrency: 2 });
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([worker?.stop(), log.stop()]);
  await api?.close();
  await owned?.close();
  await broker?.stop();
  await pool.end();
  await dropSchema(schema);
});

describe('a kind of your own under the custom broker', () => {
  it('is registered in broker_kinds and accepted at once; a failure is rolled back', async () => {
    const { rows } = await pool.query<{ name: string; record: { pool: string } }>(`select name, record from "${schema}".broker_kinds where name = 'counter'`);
    expect(rows.map((r) => [r.name, r.record.pool])).toEqual([['counter', 'counter']]);
    const ok = await client.submit({ kind: 'counter', action: 'add', payload: { by: 2 } });
    await log.waitFor(ok.taskId, (types) => types.includes('TaskCompleted'));
    const failed = await client.submit({ kind: 'counter', action: 'add', payload: { by: 13 } });
    await log.waitFor(failed.taskId, (types) => types.includes('RollbackSucceeded'));
    expect(total).toBe(2);
    const bad = await client.submit({ kind: 'counter', action: 'add', payload: { by: 0 } });
    const events = await log.waitFor(bad.taskId, (types) => types.includes('TaskRejected'));
    expect(events.at(-1)).toMatchObject({ type: 'TaskRejected', body: { code: 'INVALID_PAYLOAD' } });
  });

  it('the API lists it and checks its payloads; an incompatible change is refused', async () => {
    const listed = await api.inject({ method: 'GET', url: '/kinds/counter' });
    expect(listed.json()).toMatchObject({ name: 'counter', source: 'registered', pool: 'counter' });
    const refused = await api.inject({ method: 'POST', url: '/tasks', payload: { kind: 'counter', action: 'add', payload: { by: 'two' } } });
    expect([refused.statusCode, refused.json().code]).toEqual([422, 'INVALID_PAYLOAD']);
    const changed = defineKind({ ...counter, payload: z.strictObject({ by: z.number().int(), unit: z.string() }) });
    await expect(createWorker({ kinds: [implement(changed, { run: async () => ({}), rollback: async () => {} })], env })).rejects.toThrow(/new field add\.payload\.unit is required/);
  });
});

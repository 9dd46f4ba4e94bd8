// The `query` kind end to end on the real broker, worker and PostgreSQL: documents of a
// category and type, filtered on their bodies, ordered, limited, returned as the task's
// output; hostile field names and values are refused or matched as plain data, never run
// as SQL; a query writes nothing and a read-only transaction would stop it if it tried.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { topicNames } from '../../../topics/names.js';
import { DocumentStore } from '../../../workers/datastore/document-store.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';

const schema = uniqueSchema('query');
const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('query'), STACKL_PARTITIONS: '2', STACKL_DB_SCHEMA: schema });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);
const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 2 });
const store = new DocumentStore(pool, schema);
let broker: RunningLifecycleApp;
let worker: Worker;

const SERVICES = [
  { key: 'infra/service/api', body: { team: 'core', replicas: 3, tier: 'gold', labels: ['public', 'http'], spec: { port: 8080 } } },
  { key: 'infra/service/db', body: { team: 'data', replicas: 1, tier: 'gold', labels: ['private'], spec: { port: 5432 } } },
  { key: 'infra/service/cache', body: { team: 'core', replicas: 2, tier: 'silver', labels: ['private'], spec: { port: 6379 } } },
  { key: 'infra/service/web', body: { team: 'web', replicas: 5, tier: 'bronze', labels: ['public'], spec: { port: '443' } } },
  { key: 'infra/target/lab-1', body: { team: 'core', replicas: 9 } },
  { key: 'apps/service/api', body: { team: 'core', replicas: 7 } },
];

beforeAll(async () => {
  await migrate(testDatabaseUrl(), schema);
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: '4' });
  await log.start();
  const { taskId } = await client.submit({ kind: 'document', action: 'create', payload: { documents: SERVICES } });
  await log.waitFor(taskId, (types) => types.includes('TaskCompleted'));
}, 60_000);

afterAll(async () => {
  await Promise.all([worker.stop(), log.stop(), client.close()]);
  await broker.stop();
  await pool.end();
  await dropSchema(schema);
});

interface QueryOutput {
  rows: { key: string; version: number; updatedAt: string; body?: Record<string, unknown>; fields?: Record<string, unknown> }[];
  count: number;
  more: boolean;
}

async function run(payload: object): Promise<{ last: string; output?: QueryOutput; body: unknown }> {
  const { taskId } = await client.submit({ kind: 'query', action: 'run', payload });
  const history = await log.waitFor(taskId, (types) => ['TaskCompleted', 'RollbackSucceeded', 'TaskRejected'].includes(types[types.length - 1] ?? ''));
  const last = history[history.length - 1];
  const output = last?.type === 'TaskCompleted' ? (JSON.parse((last.body as { output: string }).output) as QueryOutput) : undefined;
  const failed = history.find((e) => e.type === 'AttemptFailed' || e.type === 'TaskRejected');
  return { last: last?.type ?? '', ...(output === undefined ? {} : { output }), body: failed?.body };
}

const keys = (output: QueryOutput | undefined) => output?.rows.map((r) => r.key);

describe('query tasks', () => {
  it('return the documents of a category and type, in key order by default', async () => {
    const { output } = await run({ category: 'infra', type: 'service' });
    expect(keys(output)).toEqual(['infra/service/api', 'infra/service/cache', 'infra/service/db', 'infra/service/web']);
    expect(output?.rows[0]).toMatchObject({ version: 1, body: SERVICES[0]?.body, updatedAt: expect.stringMatching(/^\d{4}-/) });
    expect(output).toMatchObject({ count: 4, more: false });
    expect(keys((await run({ category: 'infra' })).output)).toHaveLength(5);
  }, 60_000);

  it('filter on body fields with every operator, and order and limit', async () => {
    const ask = async (where: object[], extra: object = {}) => keys((await run({ category: 'infra', type: 'service', where, ...extra })).output);
    expect(await ask([{ field: 'team', op: 'eq', value: 'core' }])).toEqual(['infra/service/api', 'infra/service/cache']);
    expect(await ask([{ field: 'team', op: 'ne', value: 'core' }])).toEqual(['infra/service/db', 'infra/service/web']);
    expect(await ask([{ field: 'replicas', op: 'gte', value: 2 }, { field: 'replicas', op: 'lt', value: 5 }])).toEqual(['infra/service/api', 'infra/service/cache']);
    // Numbers compare with numbers only: the string "443" is not above 1000 or below it.
    expect(await ask([{ field: 'spec.port', op: 'gt', value: 1000 }])).toEqual(['infra/service/api', 'infra/service/cache', 'infra/service/db']);
    expect(await ask([{ field: 'tier', op: 'in', value: ['silver', 'bronze'] }])).toEqual(['infra/service/cache', 'infra/service/web']);
    expect(await ask([{ field: 'labels', op: 'contains', value: ['public'] }])).toEqual(['infra/service/api', 'infra/service/web']);
    expect(await ask([{ field: 'spec.port', op: 'exists' }, { field: 'tier', op: 'eq', value: 'gold' }])).toEqual(['infra/service/api', 'infra/service/db']);
    expect(await ask([], { orderBy: [{ by: 'replicas', direction: 'desc' }], limit: 2 })).toEqual(['infra/service/web', 'infra/service/api']);
    const limited = await run({ category: 'infra', type: 'service', orderBy: [{ by: 'tier' }, { by: 'replicas', direction: 'desc' }], limit: 3 });
    expect(keys(limited.output)).toEqual(['infra/service/web', 'infra/service/api', 'infra/service/db']);
    expect(limited.output).toMatchObject({ count: 3, more: true });
  }, 120_000);

  it('return only the fields asked for', async () => {
    const { output } = await run({ category: 'infra', type: 'service', where: [{ field: 'team', op: 'eq', value: 'web' }], fields: ['replicas', 'spec.port', 'missing.field'] });
    expect(output?.rows).toEqual([{ key: 'infra/service/web', version: 1, updatedAt: expect.any(String), fields: { replicas: 5, 'spec.port': '443', 'missing.field': null } }]);
  }, 60_000);

  it('match hostile values as plain data and refuse hostile field names at submission', async () => {
    const injected = await run({ category: 'infra', where: [{ field: 'team', op: 'eq', value: "core' or '1'='1" }, { field: 'team', op: 'in', value: ["x'); drop table documents; --"] }] });
    expect(injected.output).toMatchObject({ rows: [], count: 0 });
    for (const field of ['team; drop table documents', "team')--", 'a.b.c.d.e.f.g.h.i', '']) {
      const refused = await run({ category: 'infra', where: [{ field, op: 'exists' }] });
      expect([field, refused.last, (refused.body as { code?: string }).code]).toEqual([field, 'TaskRejected', 'INVALID_PAYLOAD']);
    }
    expect((await run({ category: '../etc', where: [] })).last).toBe('TaskRejected');
    expect((await run({ category: 'infra', limit: 100_000 })).last).toBe('TaskRejected');
    // Nothing was dropped or changed.
    expect((await store.list('infra/')).map((d) => d.key)).toHaveLength(5);
  }, 120_000);

  it('runs in a transaction that refuses writes, cut off at its timeout', async () => {
    const writing = store.readOnly(() => ({ text: 'delete from ' + `${pg.escapeIdentifier(schema)}.documents`, values: [] }), 5_000);
    await expect(writing).rejects.toThrow(/read-only transaction/);
    const slow = store.readOnly(() => ({ text: 'select pg_sleep(2)', values: [] }), 100);
    await expect(slow).rejects.toThrow(/statement timeout/);
    expect(await store.list('apps/')).toHaveLength(1);
  }, 30_000);
});

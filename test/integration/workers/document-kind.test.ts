// The `document` kind end to end on the real broker, worker and PostgreSQL: documents
// are written, a failed task's writes are undone from their snapshots, and the
// datastore refuses writes from a stale attempt or from a task whose rollback started.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { topicNames } from '../../../topics/names.js';
import { DocumentStore, FencedError } from '../../../workers/datastore/document-store.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';

const schema = uniqueSchema('document');
const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('document'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: schema });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);
const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
const store = new DocumentStore(pool, schema);
let broker: RunningLifecycleApp;
let worker: Worker;

beforeAll(async () => {
  await migrate(testDatabaseUrl(), schema);
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: '4' });
  await log.start();
});
afterAll(async () => {
  await Promise.all([worker.stop(), log.stop(), client.close()]);
  await broker.stop();
  await pool.end();
  await dropSchema(schema);
});

const ends = (last: string) => (types: string[]) => types[types.length - 1] === last;

async function body(key: string): Promise<unknown> {
  return (await store.get(key))?.body;
}

async function snapshotsOf(taskId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`select count(*) as n from ${pg.escapeIdentifier(schema)}.document_snapshots where task_id = $1`, [taskId]);
  return Number(rows[0]?.n);
}

describe('document tasks through the broker and a worker', () => {
  it('creates documents and reports their keys and versions', async () => {
    const { taskId } = await client.submit({ kind: 'document', action: 'create', payload: { documents: [{ key: 'app/config/one', body: { n: 1 } }, { key: 'app/config/two', body: { n: 2 } }] } });
    const history = await log.waitFor(taskId, ends('TaskCompleted'));
    expect(JSON.parse((history[history.length - 1]?.body as { output: string }).output)).toEqual({ keys: ['app/config/one', 'app/config/two'], versions: [1, 1] });
    expect(await store.get('app/config/one')).toMatchObject({ body: { n: 1 }, version: 1, updatedByTask: taskId, updatedByAttempt: 1 });
    expect(await body('app/config/two')).toEqual({ n: 2 });
    expect(await snapshotsOf(taskId)).toBe(2);
  });

  it('updates a document, then rolls back a create that fails on its second key', async () => {
    await store.write({ taskId: randomUUID(), attempt: 1 }, { op: 'create', key: 'app/stack/base', body: { v: 0 } });
    const updated = await client.submit({ kind: 'document', action: 'update', payload: { documents: [{ key: 'app/stack/base', body: { v: 1 } }] } });
    const history = await log.waitFor(updated.taskId, ends('TaskCompleted'));
    expect(JSON.parse((history[history.length - 1]?.body as { output: string }).output)).toEqual({ keys: ['app/stack/base'], versions: [2] });
    expect(await body('app/stack/base')).toEqual({ v: 1 });

    const failing = await client.submit({
      kind: 'document',
      action: 'create',
      payload: { documents: [{ key: 'app/stack/fresh', body: { new: true } }, { key: 'app/stack/base', body: { clobbered: true } }] },
      maxAttempts: 3,
    });
    const failed = await log.waitFor(failing.taskId, ends('RollbackSucceeded'));
    const types = failed.map((e) => e.type);
    // A conflict is not retried: one attempt, then the task fails and rolls back.
    expect(types.filter((t) => t === 'AttemptFailed')).toHaveLength(1);
    expect(failed.find((e) => e.type === 'AttemptFailed')?.body).toMatchObject({ message: expect.stringContaining('app/stack/base') });
    expect(failed.find((e) => e.type === 'TaskFailed')?.body).toMatchObject({ reason: 'error' });
    expect(await store.get('app/stack/fresh')).toBeUndefined();
    expect(await store.get('app/stack/base')).toMatchObject({ body: { v: 1 }, version: 2, updatedByTask: updated.taskId });
  });

  it('restores updated and deleted documents from their snapshots when a later document fails', async () => {
    const seed = randomUUID();
    await store.write({ taskId: seed, attempt: 1 }, { op: 'create', key: 'env/doc/u', body: { state: 'original-u' } });
    await store.write({ taskId: seed, attempt: 1 }, { op: 'create', key: 'env/doc/d', body: { state: 'original-d' } });

    const update = await client.submit({ kind: 'document', action: 'update', maxAttempts: 3, payload: { documents: [{ key: 'env/doc/u', body: { state: 'changed' } }, { key: 'env/doc/missing', body: {} }] } });
    const remove = await client.submit({ kind: 'document', action: 'delete', maxAttempts: 3, payload: { keys: ['env/doc/d', 'env/doc/missing'] } });
    for (const { taskId } of [update, remove]) {
      const history = await log.waitFor(taskId, ends('RollbackSucceeded'));
      expect(history.filter((e) => e.type === 'AttemptFailed')).toHaveLength(1);
      expect(history.find((e) => e.type === 'AttemptFailed')?.body).toMatchObject({ message: expect.stringContaining('env/doc/missing') });
    }
    expect(await body('env/doc/u')).toEqual({ state: 'original-u' });
    expect(await body('env/doc/d')).toEqual({ state: 'original-d' });
    expect(await store.get('env/doc/missing')).toBeUndefined();
  });
});

describe('the datastore fences writes', () => {
  it('refuses a write from an attempt older than one that has written', async () => {
    const taskId = randomUUID();
    await store.write({ taskId, attempt: 2 }, { op: 'create', key: 'fence/stale/a', body: { by: 2 } });
    const stale = store.write({ taskId, attempt: 1 }, { op: 'update', key: 'fence/stale/a', body: { by: 1 } });
    await expect(stale).rejects.toBeInstanceOf(FencedError);
    await expect(stale).rejects.toMatchObject({ code: 'FENCED', retriable: false });
    await store.write({ taskId, attempt: 3 }, { op: 'update', key: 'fence/stale/a', body: { by: 3 } });
    await expect(store.write({ taskId, attempt: 2 }, { op: 'update', key: 'fence/stale/a', body: { by: 2 } })).rejects.toMatchObject({ code: 'FENCED' });
    expect(await store.get('fence/stale/a')).toMatchObject({ body: { by: 3 }, version: 2, updatedByAttempt: 3 });
  });

  it('refuses every write once rollback started, and rollback is idempotent', async () => {
    const other = randomUUID();
    await store.write({ taskId: other, attempt: 1 }, { op: 'create', key: 'fence/rb/kept', body: { v: 'before' } });
    const taskId = randomUUID();
    await store.write({ taskId, attempt: 1 }, { op: 'create', key: 'fence/rb/new', body: { v: 1 } });
    await store.write({ taskId, attempt: 1 }, { op: 'update', key: 'fence/rb/kept', body: { v: 'during' } });
    await store.write({ taskId, attempt: 1 }, { op: 'update', key: 'fence/rb/kept', body: { v: 'during again' } });

    expect((await store.rollback(taskId, 1)).restored).toEqual(['fence/rb/kept', 'fence/rb/new']);
    expect(await store.get('fence/rb/new')).toBeUndefined();
    expect(await body('fence/rb/kept')).toEqual({ v: 'before' });

    // A late attempt, current or newer, writes nothing.
    for (const attempt of [1, 2]) {
      await expect(store.write({ taskId, attempt }, { op: 'create', key: 'fence/rb/late', body: {} })).rejects.toMatchObject({ code: 'FENCED' });
      await expect(store.write({ taskId, attempt }, { op: 'update', key: 'fence/rb/kept', body: { v: 'late' } })).rejects.toMatchObject({ code: 'FENCED' });
    }
    expect(await store.get('fence/rb/late')).toBeUndefined();

    const before = await store.get('fence/rb/kept');
    await store.rollback(taskId, 1);
    await store.rollback(taskId, 2);
    expect(await store.get('fence/rb/kept')).toEqual(before);
    expect(await store.get('fence/rb/new')).toBeUndefined();
  });

  it('leaves alone what another task changed since: undoing one task never undoes another', async () => {
    const base = randomUUID();
    await store.write({ taskId: base, attempt: 1 }, { op: 'create', key: 'fence/other/updated', body: { by: 'base' } });
    await store.write({ taskId: base, attempt: 1 }, { op: 'create', key: 'fence/other/deleted', body: { by: 'base' } });
    const failing = randomUUID();
    const later = randomUUID();
    await store.write({ taskId: failing, attempt: 1 }, { op: 'update', key: 'fence/other/updated', body: { by: 'failing' } });
    await store.write({ taskId: failing, attempt: 1 }, { op: 'delete', key: 'fence/other/deleted' });
    await store.write({ taskId: failing, attempt: 1 }, { op: 'create', key: 'fence/other/created', body: { by: 'failing' } });
    // A later task writes over all three before the failing task rolls back.
    await store.write({ taskId: later, attempt: 1 }, { op: 'update', key: 'fence/other/updated', body: { by: 'later' } });
    await store.write({ taskId: later, attempt: 1 }, { op: 'create', key: 'fence/other/deleted', body: { by: 'later' } });
    await store.write({ taskId: later, attempt: 1 }, { op: 'update', key: 'fence/other/created', body: { by: 'later' } });

    expect(await store.rollback(failing, 1)).toEqual({ restored: [], leftAlone: ['fence/other/created', 'fence/other/deleted', 'fence/other/updated'] });
    for (const key of ['fence/other/updated', 'fence/other/deleted', 'fence/other/created']) expect(await body(key)).toEqual({ by: 'later' });
  });

  it('fences a task rolled back before it wrote anything', async () => {
    const taskId = randomUUID();
    expect((await store.rollback(taskId, 1)).restored).toEqual([]);
    await expect(store.write({ taskId, attempt: 1 }, { op: 'create', key: 'fence/early/a', body: {} })).rejects.toMatchObject({ code: 'FENCED' });
    expect(await store.get('fence/early/a')).toBeUndefined();
  });

  it('lets a retried attempt repeat its own create and delete, but never another task\'s', async () => {
    const taskId = randomUUID();
    await store.write({ taskId, attempt: 1 }, { op: 'create', key: 'retry/doc/a', body: { n: 1 } });
    expect(await store.write({ taskId, attempt: 2 }, { op: 'create', key: 'retry/doc/a', body: { n: 1 } })).toEqual({ key: 'retry/doc/a', version: 2 });
    await expect(store.write({ taskId: randomUUID(), attempt: 1 }, { op: 'create', key: 'retry/doc/a', body: {} })).rejects.toMatchObject({ code: 'DOCUMENT_EXISTS' });
    const deleter = randomUUID();
    await store.write({ taskId: deleter, attempt: 1 }, { op: 'delete', key: 'retry/doc/a' });
    expect(await store.write({ taskId: deleter, attempt: 2 }, { op: 'delete', key: 'retry/doc/a' })).toEqual({ key: 'retry/doc/a', version: null });
    await expect(store.write({ taskId: randomUUID(), attempt: 1 }, { op: 'delete', key: 'retry/doc/a' })).rejects.toMatchObject({ code: 'DOCUMENT_NOT_FOUND' });
    await store.rollback(deleter, 2);
    expect(await body('retry/doc/a')).toEqual({ n: 1 });
  });
});

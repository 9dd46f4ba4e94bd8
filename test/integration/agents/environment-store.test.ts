// The environment agents drive, on real PostgreSQL: jobs apply idempotently, carry
// their attempt as a fencing token, and a compensation fences the task for good and
// undoes only what the task itself left in place.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentMigrations } from '../../../agents/environment-schema.js';
import { EnvironmentStore } from '../../../agents/environment-store.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import type { AgentJob } from '../../../channels/agent-messages.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';

const schema = uniqueSchema('environment');
const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
const store = new EnvironmentStore(pool, schema);

beforeAll(async () => {
  await migrate(testDatabaseUrl(), schema, environmentMigrations);
});
afterAll(async () => {
  await pool.end();
  await dropSchema(schema);
});

function job(taskId: string, attempt: number, fields: Partial<AgentJob>): AgentJob {
  return { jobId: randomUUID(), taskId, attempt, compensation: false, op: 'apply', target: 't1', resource: 's/web', spec: { v: 1 }, replyTo: 'w', deadlineAt: Date.now() + 60_000, ...fields };
}

const specOf = async (target: string, resource: string) => (await store.list([target])).find((r) => r.resource === resource)?.spec;

describe('the environment store', () => {
  it('applies the same job twice to the same state', async () => {
    const task = randomUUID();
    expect(await store.apply(job(task, 1, { resource: 'idem/web' }))).toEqual({ status: 'applied', message: null });
    expect(await store.apply(job(task, 1, { resource: 'idem/web' }))).toEqual({ status: 'unchanged', message: null });
    expect((await store.list(['t1'])).filter((r) => r.resource === 'idem/web')).toMatchObject([{ spec: { v: 1 }, version: 1, writtenByTask: task }]);
  });

  it('refuses an attempt older than one that has written', async () => {
    const task = randomUUID();
    await store.apply(job(task, 2, { resource: 'stale/web', spec: { by: 2 } }));
    expect(await store.apply(job(task, 1, { resource: 'stale/web', spec: { by: 1 } }))).toMatchObject({ status: 'refused', message: expect.stringContaining('stale') });
    expect(await specOf('t1', 'stale/web')).toEqual({ by: 2 });
  });

  it('after a compensation, refuses every ordinary job of the task (a late worker changes nothing)', async () => {
    const task = randomUUID();
    await store.apply(job(task, 1, { resource: 'late/web' }));
    expect(await store.apply(job(task, 1, { resource: 'late/web', op: 'remove', spec: null, compensation: true }))).toEqual({ status: 'removed', message: null });
    expect(await store.apply(job(task, 1, { resource: 'late/web' }))).toMatchObject({ status: 'refused', message: expect.stringContaining('rolled back') });
    expect(await store.apply(job(task, 2, { resource: 'late/other' }))).toMatchObject({ status: 'refused' });
    expect(await specOf('t1', 'late/web')).toBeUndefined();
  });

  it('a compensation leaves alone what another task changed since, and what the task never touched', async () => {
    const first = randomUUID();
    const second = randomUUID();
    await store.apply(job(first, 1, { resource: 'shared/web', spec: { by: 'first' } }));
    await store.apply(job(second, 1, { resource: 'shared/web', spec: { by: 'second' } }));
    expect(await store.apply(job(first, 1, { resource: 'shared/web', op: 'remove', spec: null, compensation: true }))).toMatchObject({ status: 'skipped' });
    expect(await specOf('t1', 'shared/web')).toEqual({ by: 'second' });
    expect(await store.apply(job(randomUUID(), 1, { resource: 'never/web', op: 'remove', spec: null, compensation: true }))).toMatchObject({ status: 'skipped' });
  });

  it('a compensation re-applies a previous spec where the task changed it, as often as asked', async () => {
    const before = randomUUID();
    const task = randomUUID();
    await store.apply(job(before, 1, { target: 't2', resource: 'undo/web', spec: { image: 'v1' } }));
    await store.apply(job(task, 1, { target: 't2', resource: 'undo/web', spec: { image: 'v2' } }));
    const undo = job(task, 1, { target: 't2', resource: 'undo/web', spec: { image: 'v1' }, compensation: true });
    expect(await store.apply(undo)).toMatchObject({ status: 'applied' });
    expect(await store.apply(undo)).toMatchObject({ status: 'applied' });
    expect(await specOf('t2', 'undo/web')).toEqual({ image: 'v1' });
  });
});

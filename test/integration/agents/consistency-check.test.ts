// The shared consistency check must catch what it promises to catch: planted
// inconsistencies between the datastore and the environment, a rolled-back task's
// leftovers and a completed task's missing effect are each reported.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentMigrations } from '../../../agents/environment-schema.js';
import { EnvironmentStore } from '../../../agents/environment-store.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { DocumentStore } from '../../../workers/datastore/document-store.js';
import { checkConsistency } from '../../support/consistency.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';

const datastore = uniqueSchema('check');
const environment = `${datastore}_env`;
const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
const documents = new DocumentStore(pool, datastore);
const resources = new EnvironmentStore(pool, environment);

beforeAll(async () => {
  await migrate(testDatabaseUrl(), datastore);
  await migrate(testDatabaseUrl(), environment, environmentMigrations);
});
afterAll(async () => {
  await pool.end();
  await dropSchema(datastore);
  await dropSchema(environment);
});

const apply = (taskId: string, target: string, resource: string, spec: Record<string, unknown>) =>
  resources.apply({ jobId: randomUUID(), taskId, attempt: 1, compensation: false, op: 'apply', target, resource, spec, replyTo: 'w', deadlineAt: Date.now() + 60_000 });

describe('the consistency check', () => {
  it('passes a consistent state and reports each planted inconsistency', async () => {
    const stackTask = randomUUID();
    const instance = { services: [{ name: 'web', config: { v: 1 } }], placement: [{ service: 'web', target: 'a' }, { service: 'web', target: 'b' }] };
    await documents.write({ taskId: stackTask, attempt: 1 }, { op: 'create', key: 'stack/instance/shop', body: instance });
    for (const target of ['a', 'b']) await apply(stackTask, target, 'shop/web', { stack: 'shop', service: 'web', config: { v: 1 } });
    const ok = [{ taskId: stackTask, kind: 'stack', action: 'create', payload: { name: 'shop' }, outcome: 'completed' as const }];
    expect(await checkConsistency(pool, datastore, environment, ok)).toEqual([]);

    // A resource no instance places, a wrong spec, a rolled-back task's leftover, a completed task's missing effect.
    await apply(randomUUID(), 'c', 'ghost/web', { stack: 'ghost' });
    await apply(randomUUID(), 'b', 'shop/web', { stack: 'shop', service: 'web', config: { v: 2 } });
    const rolledBack = randomUUID();
    await documents.write({ taskId: rolledBack, attempt: 1 }, { op: 'create', key: 'doc/left/behind', body: { x: 1 } });
    const tasks = [
      ...ok,
      { taskId: rolledBack, kind: 'document', action: 'create', payload: { documents: [{ key: 'doc/left/behind', body: { x: 1 } }] }, outcome: 'rolled-back' as const },
      { taskId: randomUUID(), kind: 'document', action: 'create', payload: { documents: [{ key: 'doc/never/written', body: { y: 1 } }] }, outcome: 'completed' as const },
    ];
    const violations = await checkConsistency(pool, datastore, environment, tasks);
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringContaining('environment has c|ghost/web, which no stack instance'),
        expect.stringContaining('environment has b|shop/web as'),
        expect.stringContaining(`rolled back but left doc/left/behind behind`),
        expect.stringContaining('completed but doc/never/written is'),
      ]),
    );
    expect(violations).toHaveLength(4);
  });
});

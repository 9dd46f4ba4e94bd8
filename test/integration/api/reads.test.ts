// GET /tasks, /tasks/:id and /tasks/:id/events against a real projection schema with
// rows written directly (standing in for the projector).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { startHarness, type ApiHarness } from './harness.js';
import { insertEvent, insertTask } from './rows.js';

let h: ApiHarness;
let pool: pg.Pool;
const ids: Record<string, string> = {};
const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute));

beforeAll(async () => {
  h = await startHarness('reads');
  pool = h.owned.deps.pool;
  const schema = h.config.databaseSchema;
  ids.done = await insertTask(pool, schema, { status: 'Completed', createdAt: at(1), output: { ok: true } });
  ids.failed = await insertTask(pool, schema, { status: 'Failed', rollback: 'failed', failureReason: 'timeout', failureMessage: 'too slow', createdAt: at(2) });
  ids.replying = await insertTask(pool, schema, { kind: 'document', originType: 'topic', originTarget: 'replies', createdAt: at(3) });
  ids.rejected = await insertTask(pool, schema, { rejection: { code: 'UNKNOWN_KIND', message: 'unknown kind "x"' }, createdAt: at(4) });
  for (let i = 0; i < 5; i++) ids[`bulk${i}`] = await insertTask(pool, schema, { kind: 'bulk', createdAt: at(10 + (i % 2)) });
  // Written out of order: the API serves them in log order.
  await insertEvent(pool, schema, ids.done as string, { sequence: 2, offset: 11, type: 'AttemptDispatched', body: { attempt: 1 } });
  await insertEvent(pool, schema, ids.done as string, { sequence: 1, offset: 10, type: 'TaskSubmitted', body: { task: { kind: 'probe', payload: '{"outcome":"succeed","n":[1,2]}' } } });
  await insertEvent(pool, schema, ids.done as string, { sequence: 3, offset: 12, type: 'AttemptSucceeded', body: { attempt: 1, output: '{"probe":"ok"}' } });
  await insertEvent(pool, schema, ids.done as string, { sequence: 4, offset: 13, type: 'TaskCompleted', body: { output: '"just text"' } });
});
afterAll(async () => {
  await h?.close();
});

const get = (url: string) => h.app.inject({ method: 'GET', url });

describe('GET /tasks/:id', () => {
  it('returns the projected task', async () => {
    const res = await get(`/tasks/${ids.failed}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: ids.failed, kind: 'probe', action: 'run', status: 'Failed', rollback: 'failed',
      failure: { reason: 'timeout', message: 'too slow' }, attempts: 1, origin: { type: 'none', target: null },
      payload: { outcome: 'succeed' }, output: null, createdAt: at(2).toISOString(),
    });
  });

  it('shows a refused submission with its rejection and without what only accepted tasks have', async () => {
    const res = await get(`/tasks/${ids.rejected}`);
    expect(res.json()).toMatchObject({ status: 'Rejected', rejection: { code: 'UNKNOWN_KIND', message: 'unknown kind "x"' }, kind: null, origin: null, payload: null });
    expect((await get('/tasks?status=Rejected')).json().items.map((t: { id: string }) => t.id)).toEqual([ids.rejected]);
  });

  it('answers 404 TASK_NOT_FOUND for an unknown id and 400 INVALID_TASK_ID for a non-UUID', async () => {
    const missing = await get(`/tasks/${uuidV7()}`);
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'TASK_NOT_FOUND']);
    const bad = await get('/tasks/not-a-task');
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'INVALID_TASK_ID']);
    const badPosition = await get(`/tasks/${ids.done}?minPosition=abc`);
    expect([badPosition.statusCode, badPosition.json().issues[0].path]).toEqual([400, 'querystring.minPosition']);
  });

  it('lists the events of a task in log order, 404 for an unknown task', async () => {
    const res = await get(`/tasks/${ids.done}/events`);
    const items = res.json().items as { sequence: number; type: string; body: unknown }[];
    expect(items.map((e) => [e.sequence, e.type])).toEqual([[1, 'TaskSubmitted'], [2, 'AttemptDispatched'], [3, 'AttemptSucceeded'], [4, 'TaskCompleted']]);
    // Payloads and outputs as JSON values, not JSON text inside JSON.
    expect(items.map((e) => e.body)).toEqual([{ task: { kind: 'probe', payload: { outcome: 'succeed', n: [1, 2] } } }, { attempt: 1 }, { attempt: 1, output: { probe: 'ok' } }, { output: 'just text' }]);
    expect((await get(`/tasks/${ids.failed}/events`)).json().items).toEqual([]);
    expect((await get(`/tasks/${uuidV7()}/events`)).statusCode).toBe(404);
  });
});

describe('GET /tasks', () => {
  const list = async (query: string) => {
    const res = await get(`/tasks?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: Array<{ id: string }>; nextCursor: string | null }>();
  };

  it('filters by status, kind, rollback, origin and creation time', async () => {
    expect((await list('status=Completed')).items.map((t) => t.id)).toEqual([ids.done]);
    expect((await list('rollback=failed')).items.map((t) => t.id)).toEqual([ids.failed]);
    expect((await list('kind=document&origin=replies')).items.map((t) => t.id)).toEqual([ids.replying]);
    const window = await list(`createdAfter=${at(2).toISOString()}&createdBefore=${at(10).toISOString()}`);
    expect(window.items.map((t) => t.id)).toEqual([ids.rejected, ids.replying, ids.failed]);
  });

  it('pages newest first with an opaque cursor, also across equal creation times', async () => {
    const seen: string[] = [];
    let page = await list('kind=bulk&limit=2');
    seen.push(...page.items.map((t) => t.id));
    while (page.nextCursor !== null) {
      page = await list(`kind=bulk&limit=2&cursor=${page.nextCursor}`);
      seen.push(...page.items.map((t) => t.id));
    }
    const bulk = [0, 1, 2, 3, 4].map((i) => ids[`bulk${i}`] as string);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(bulk));
    // Odd-numbered rows were created later, so they come first.
    expect(seen.slice(0, 2).sort()).toEqual([bulk[1], bulk[3]].sort());
  });

  it('refuses bad filters with the path of each problem', async () => {
    const res = await get('/tasks?status=Lost&limit=501&createdAfter=yesterday&colour=red');
    expect(res.statusCode).toBe(400);
    const paths = res.json().issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['querystring.status', 'querystring.limit', 'querystring.createdAfter', 'querystring.colour']));
    const cursor = await get('/tasks?cursor=bm90LWEtY3Vyc29y');
    expect([cursor.statusCode, cursor.json().code]).toEqual([400, 'INVALID_CURSOR']);
  });

  it('treats SQL metacharacters in filters as plain values: no match, table intact', async () => {
    for (const evil of ["probe' or '1'='1", "x'; drop table tasks; --", 'bulk%', '\\', '"; select pg_sleep(5); --']) {
      const q = encodeURIComponent(evil);
      expect((await list(`kind=${q}`)).items).toEqual([]);
      expect((await list(`origin=${q}`)).items).toEqual([]);
    }
    const { rows } = await pool.query(`select count(*)::int as n from ${pg.escapeIdentifier(h.config.databaseSchema)}.tasks`);
    expect(rows[0].n).toBe(9);
  });
});

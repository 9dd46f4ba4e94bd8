// /healthz, /readyz, /metrics and /docs, plus one round trip over a real socket.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../../api/app.js';
import { createReadinessProbe } from '../../../api/readiness.js';
import { startApi } from '../../../api/server.js';
import { topicNames } from '../../../topics/names.js';
import { testKafka } from '../../support/kafka.js';
import { buildWith, startHarness, type ApiHarness } from './harness.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startHarness('health');
});
afterAll(async () => {
  await h?.close();
});

describe('probes', () => {
  it('/healthz answers while the process runs; /readyz when Kafka, PostgreSQL and the projection are fine', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok', broker: 'kafka' });
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode, ready.body).toBe(200);
    expect(ready.json()).toMatchObject({
      ready: true,
      functions: { submit: { ready: true, failing: [] }, read: { ready: true, failing: [] } },
      checks: { kafka: { ok: true }, postgres: { ok: true }, projection: { ok: true, lag: { '0': 0, '1': 0 } }, admission: { ok: true, pending: 0 } },
    });
    for (const url of ['/readyz/submit', '/readyz/read']) expect((await h.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
  });

  it('/readyz answers 503 with details when PostgreSQL does not answer; submissions stay ready, reads do not', async () => {
    const deadPool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    deadPool.on('error', () => {});
    const deps = h.owned.deps;
    const noDb = build({ ...deps, readiness: createReadinessProbe(h.admin, deadPool, deps.progress) });
    try {
      const res = await noDb.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'NOT_READY', ready: false, checks: { kafka: { ok: true }, postgres: { ok: false } } });
      const read = await noDb.inject({ method: 'GET', url: '/readyz/read' });
      expect([read.statusCode, read.json().code, read.json().detail]).toEqual([503, 'NOT_READY', expect.stringMatching(/^postgres: /)]);
      expect((await noDb.inject({ method: 'GET', url: '/readyz/submit' })).statusCode).toBe(200);
    } finally {
      await noDb.close();
      await deadPool.end();
    }
  });

  it('a projection behind its limit fails /readyz/read only: /readyz and /readyz/submit stay ready (a projector stall does not stop submissions)', async () => {
    // One record in task.events that no projector has applied: lag 1, over a limit of 0.
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({ topic: topicNames(h.config.topicPrefix).events, messages: [{ key: 'k', value: 'not an event', partition: 0 }] });
    await producer.disconnect();
    const strict = await buildWith(h, { readyMaxLag: 0 });
    try {
      const read = await strict.inject({ method: 'GET', url: '/readyz/read' });
      expect(read.statusCode).toBe(503);
      expect(read.json()).toMatchObject({ code: 'NOT_READY', detail: 'projection: projection is 1 events behind (limit 0)', checks: { projection: { ok: false, lag: { '0': 1 }, maxLag: 0 } } });
      const all = await strict.inject({ method: 'GET', url: '/readyz' });
      expect([all.statusCode, all.json().ready, all.json().functions.read.ready, all.json().functions.submit.ready]).toEqual([200, true, false, true]);
      expect((await strict.inject({ method: 'GET', url: '/readyz/submit' })).statusCode).toBe(200);
      const submit = await strict.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } }) });
      expect(submit.statusCode).toBe(202);
    } finally {
      await strict.close();
    }
  });

  it('/metrics exposes request counts and latency by route and status, projection lag and tasks by status', async () => {
    await h.app.inject({ method: 'GET', url: '/tasks/nope' });
    const text = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('stackl_http_requests_total{method="GET",route="/healthz",status="200"} 1');
    expect(text).toContain('stackl_http_requests_total{method="GET",route="/tasks/:id",status="400"} 1');
    expect(text).toMatch(/stackl_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/readyz",status="200"\} 1/);
    expect(text).toMatch(/stackl_projection_lag_events\{partition="0"\} \d+/);
    expect(text).toContain('# TYPE stackl_tasks gauge');
    expect(text).toContain('stackl_api_pending_commands 0');
    expect(text).toContain('stackl_api_shed_total{reason="orders"} 0');
    expect(text).toMatch(/stackl_api_backlog\{stage="requests"\} \d+/);
  });

  it('serves the OpenAPI document and its UI at /docs', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/tasks', '/tasks/{id}', '/tasks/{id}/events', '/tasks/{id}/cancel', '/tasks/{id}/rollback/retry', '/readyz']));
    const ui = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect([ui.statusCode, ui.headers['content-type']]).toEqual([200, expect.stringMatching(/text\/html/)]);
    const unknown = await h.app.inject({ method: 'GET', url: '/nowhere' });
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'ROUTE_NOT_FOUND']);
  });
});

describe('over a real socket', () => {
  it('startApi listens on 127.0.0.1 (port 0 here), serves HTTP, and stops', async () => {
    const api = await startApi(h.config, { deps: h.owned.deps, env: {}, options: { port: 0 } });
    try {
      expect(api.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${api.address}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } }) });
      expect(res.status).toBe(202);
      expect(res.headers.get('location')).toMatch(/^\/tasks\/[0-9a-f-]{36}$/);
      const bad = await fetch(`${api.address}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
      expect([bad.status, bad.headers.get('content-type'), ((await bad.json()) as { code: string }).code]).toEqual([400, 'application/problem+json; charset=utf-8', 'MALFORMED_JSON']);
    } finally {
      await api.stop();
    }
  });
});

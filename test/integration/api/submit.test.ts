// POST /tasks and the operator commands through inject(), on real Kafka: what is
// accepted lands on task.requests at the returned position; what is not never does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskIdForKey } from '../../../processors/broker/ids.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { decode, taskRequestSchema } from '../../../schemas/index.js';
import { topicNames } from '../../../topics/names.js';
import { consumeCount, testKafka } from '../../support/kafka.js';
import { parseApiKeys } from '../../../api/api-keys.js';
import { build } from '../../../api/app.js';
import { buildWith, startHarness, type ApiHarness } from './harness.js';
import { topicOffsets } from '../../../topics/topic-offsets.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startHarness('submit', { bodyLimit: 4096 });
});
afterAll(async () => {
  await h?.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
const probe = { kind: 'probe', action: 'run', payload: { outcome: 'succeed' } };

describe('POST /tasks', () => {
  it('accepts a task: 202, Location, and the position of the submit in task.requests', async () => {
    const res = await post('/tasks', { ...probe, timeoutMs: 60_000, idempotencyKey: `k-${h.config.topicPrefix}` });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ id: string; position: string }>();
    expect(body.id).toBe(taskIdForKey(`k-${h.config.topicPrefix}`));
    expect(res.headers.location).toBe(`/tasks/${body.id}`);
    const [partition, offset] = body.position.split(':').map(Number);
    expect(partition).toBe(partitionForKey(body.id, h.config.partitions));
    const records = await consumeCount(testKafka(), topicNames(h.config.topicPrefix).requests, 1);
    const record = records.find((r) => r.partition === partition && Number(r.message.offset) === offset);
    const message = await decode(record?.message.value ?? Buffer.alloc(0), taskRequestSchema);
    expect(message).toMatchObject({ taskId: body.id, type: 'SubmitTask', body: { kind: 'probe', timeoutMs: 60_000 } });
    // No lifecycle processor runs in this file: a read at that position cannot be served, and says why.
    const read = await h.app.inject({ method: 'GET', url: `/tasks/${body.id}?minPosition=${body.position}&waitMs=300` });
    expect([read.statusCode, read.json().code, read.json().stage]).toEqual([504, 'PROJECTION_BEHIND', 'lifecycle processor']);
  });

  it('answers malformed JSON with 400 MALFORMED_JSON as problem+json', async () => {
    const res = await post('/tasks', '{"kind": "probe",');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'MALFORMED_JSON', status: 400, type: 'urn:stackl:problem:malformed-json' });
  });

  it('lists every wrong type and unknown field with its path (400 VALIDATION_FAILED)', async () => {
    const res = await post('/tasks', { kind: 7, action: 'run', payload: {}, maxAttempts: 'three', origin: { type: 'webhook', target: 'ftp://x' }, colour: 'red' });
    expect(res.statusCode).toBe(400);
    const paths = res.json<{ code: string; issues: Array<{ path: string }> }>().issues.map((i) => i.path);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(paths).toEqual(expect.arrayContaining(['body.kind', 'body.maxAttempts', 'body.origin.target', 'body.colour']));
  });

  it('refuses a body over the limit (413), a non-JSON body (415), no content type (415) and a missing body (400)', async () => {
    const big = await post('/tasks', { ...probe, payload: { outcome: 'succeed', pad: 'x'.repeat(5000) } });
    expect([big.statusCode, big.json().code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const text = await h.app.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect([text.statusCode, text.json().code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const untyped = await h.app.inject({ method: 'POST', url: '/tasks' });
    expect([untyped.statusCode, untyped.json().code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const empty = await h.app.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' } });
    expect([empty.statusCode, empty.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('refuses an unknown kind (422, listing the known kinds), action or payload before Kafka sees it', async () => {
    const kind = await post('/tasks', { ...probe, kind: 'nope' });
    expect(kind.statusCode).toBe(422);
    expect(kind.json()).toMatchObject({ code: 'UNKNOWN_KIND', knownKinds: ['document', 'probe', 'query', 'snapshot', 'stack'] });
    const action = await post('/tasks', { ...probe, action: 'fly' });
    expect(action.json()).toMatchObject({ code: 'UNKNOWN_ACTION', knownActions: ['run'] });
    const payload = await post('/tasks', { ...probe, payload: { outcome: 'maybe', extra: 1 } });
    expect(payload.statusCode).toBe(422);
    expect(payload.json().issues.map((i: { path: string }) => i.path).sort()).toEqual(['payload.extra', 'payload.outcome']);
    const offsets = await topicOffsets(h.admin, topicNames(h.config.topicPrefix).requests);
    // Only the one accepted submit of the first test reached the topic.
    expect(offsets.reduce((n, o) => n + Number(o.offset), 0)).toBe(1);
  });

  it('checks a stack from a template against the template as it is now (422 naming each parameter), before Kafka sees it', async () => {
    const template = { parameters: { image: { type: 'string' }, replicas: { type: 'integer', default: 1 } }, services: [{ name: 'web', replicas: '${replicas}', config: { image: '${image}' } }] };
    await h.owned.deps.pool.query(`insert into ${h.config.databaseSchema}.documents (key, body, version, updated_by_task, updated_by_attempt) values ('stack/template/webapp', $1, 1, gen_random_uuid(), 1)`, [template]);
    const before = (await topicOffsets(h.admin, topicNames(h.config.topicPrefix).requests)).reduce((n, o) => n + Number(o.offset), 0);
    const missing = await post('/tasks', { kind: 'stack', action: 'create', payload: { name: 'shop', template: 'no-such' } });
    expect([missing.statusCode, missing.json().code, missing.json().issues]).toEqual([422, 'TEMPLATE_NOT_FOUND', [{ path: 'payload.template', message: 'stack template "no-such" does not exist (document stack/template/no-such)' }]]);
    const wrong = await post('/tasks', { kind: 'stack', action: 'create', payload: { name: 'shop', template: 'webapp', parameters: { replicas: 'many', colour: 'red' } } });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().code).toBe('INVALID_PARAMETERS');
    expect(wrong.json().issues.map((i: { path: string }) => i.path)).toEqual(['payload.parameters.colour', 'payload.parameters.image', 'payload.parameters.replicas']);
    expect((await topicOffsets(h.admin, topicNames(h.config.topicPrefix).requests)).reduce((n, o) => n + Number(o.offset), 0)).toBe(before);
    const fits = await post('/tasks', { kind: 'stack', action: 'create', payload: { name: 'shop', template: 'webapp', parameters: { image: 'web:1' } } });
    expect(fits.statusCode).toBe(202);
  });

  it('refuses what an attacker with a submit key would try, before Kafka sees it, and keeps serving', async () => {
    const limits = { ...h.owned.deps.limits, maxPayloadBytes: 2048 };
    const app = build({ ...h.owned.deps, limits, options: { bodyLimit: 64 * 1024 } });
    await app.ready();
    const send = (body: unknown) => app.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
    try {
      for (const target of ['__consumer_offsets', '__transaction_state', topicNames(h.config.topicPrefix).requests, topicNames(h.config.topicPrefix).events, `${h.config.topicPrefix}lifecycle-tasks-changelog`]) {
        const res = await send({ ...probe, origin: { type: 'topic', target } });
        expect([target, res.statusCode, res.json().code, res.json().replyTopicPrefix]).toEqual([target, 422, 'INVALID_ORIGIN', h.config.replyTopicPrefix]);
      }
      // SSRF: a webhook may only name a host the deployment allows (loopback by default).
      for (const target of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1:5432/', 'https://internal.example.test/admin', 'http://admin:pw@127.0.0.1/h']) {
        const res = await send({ ...probe, origin: { type: 'webhook', target } });
        expect([target, res.statusCode, res.json().code, res.json().issues?.[0]?.path]).toEqual([target, 422, 'INVALID_ORIGIN', 'body.origin.target']);
      }
      const document = (body: string) => `{"kind":"document","action":"create","payload":{"documents":[{"key":"a/b/c","body":${body}}]}}`;
      const atLimit = await send(document(JSON.stringify({ pad: 'x'.repeat(1900) })));
      expect(atLimit.statusCode).toBe(202);
      const over = await send(document(JSON.stringify({ pad: 'x'.repeat(2100) })));
      expect([over.statusCode, over.json().code, over.json().maxPayloadBytes]).toEqual([413, 'PAYLOAD_TOO_LARGE', 2048]);
      const deep = await send(document(`{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`));
      expect([deep.statusCode, deep.json().code]).toEqual([400, 'PAYLOAD_TOO_DEEP']);
      const nul = await send(document('{"a":"\\u0000"}'));
      expect([nul.statusCode, nul.json().code]).toEqual([422, 'INVALID_PAYLOAD']);
      const huge = await send(document('{"a":1e400}'));
      expect([huge.statusCode, huge.json().code]).toEqual([422, 'INVALID_PAYLOAD']);
      const offsets = await topicOffsets(h.admin, topicNames(h.config.topicPrefix).requests);
      // The one of the first test, the template stack that fits and the one at the limit: nothing else reached Kafka.
      expect(offsets.reduce((n, o) => n + Number(o.offset), 0)).toBe(3);
      expect((await send(probe)).statusCode).toBe(202);
    } finally {
      await app.close();
    }
  });
});

describe('operator commands', () => {
  it('sends cancel and retry-rollback to the broker (202) and refuses an id that is not a UUID (400)', async () => {
    const id = taskIdForKey('some-task');
    const cancel = await post(`/tasks/${id}/cancel`, { reason: 'operator said so' });
    expect(cancel.statusCode).toBe(202);
    expect(cancel.json().position).toMatch(new RegExp(`^${partitionForKey(id, h.config.partitions)}:\\d+$`));
    const retry = await h.app.inject({ method: 'POST', url: `/tasks/${id.toUpperCase()}/rollback/retry`, headers: { 'content-type': 'application/json' } });
    expect([retry.statusCode, retry.json().id]).toEqual([202, id]);
    const bad = await post("/tasks/1'%20or%201=1/cancel", {});
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'INVALID_TASK_ID']);
    const unknownField = await post(`/tasks/${id}/cancel`, { force: true });
    expect(unknownField.json().issues).toEqual([{ path: 'body.force', message: 'unknown field' }]);
  });
});

describe('API keys', () => {
  it('when on: 401 without a valid key (before the body is even read), 403 without the scope, through with it', async () => {
    const [submitterKey, readerKey, operatorKey] = ['submitter', 'reader', 'operator'].map((who) => `${who}-key-${'x'.repeat(32)}`) as [string, string, string];
    const app = await buildWith(h, { apiKeys: parseApiKeys(`${submitterKey}:submit; ${readerKey}:read; ${operatorKey}:operate,read`) });
    const send = (method: 'GET' | 'POST', url: string, key?: string, body: unknown = probe) =>
      app.inject({ method, url, headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) }, ...(method === 'POST' ? { payload: JSON.stringify(body) } : {}) });
    try {
      const none = await send('POST', '/tasks', undefined, '{broken');
      expect([none.statusCode, none.json().code, none.headers['www-authenticate']]).toEqual([401, 'UNAUTHENTICATED', 'Bearer']);
      expect((await send('POST', '/tasks', 'guessed-key')).statusCode).toBe(401);
      const reader = await send('POST', '/tasks', readerKey);
      expect([reader.statusCode, reader.json().code, reader.json().requiredScope]).toEqual([403, 'FORBIDDEN', 'submit']);
      expect((await send('POST', '/tasks', submitterKey)).statusCode).toBe(202);
      const id = taskIdForKey('keys');
      const read = await app.inject({ method: 'GET', url: `/tasks/${id}`, headers: { 'x-api-key': readerKey } });
      expect([read.statusCode, read.json().code]).toEqual([404, 'TASK_NOT_FOUND']);
      expect((await send('POST', `/tasks/${id}/cancel`, readerKey, {})).statusCode).toBe(403);
      expect((await send('POST', `/tasks/${id}/cancel`, operatorKey, {})).statusCode).toBe(202);
      expect((await send('GET', '/healthz')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

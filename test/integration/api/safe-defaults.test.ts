// The API safe by default: it will not serve the network without keys (unless told so),
// refuses short keys, takes commands only as JSON (no cross-site form reaches them), can
// put /metrics and /docs behind the read scope, answers 20,000-deep payloads with 400,
// and bounds what a slow client or a silent PostgreSQL can hold.
import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../../api/api-keys.js';
import { build } from '../../../api/app.js';
import { createApiDeps } from '../../../api/deps-factory.js';
import { startApi } from '../../../api/server.js';
import { taskIdForKey } from '../../../processors/broker/ids.js';
import { topicNames } from '../../../topics/names.js';
import { RoleProcess } from '../../support/role-process.js';
import { buildWith, startHarness, type ApiHarness } from './harness.js';
import { topicOffsets } from '../../../topics/topic-offsets.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startHarness('safe');
});
afterAll(async () => {
  await h?.close();
});

const requestsIn = async () => (await topicOffsets(h.admin, topicNames(h.config.topicPrefix).requests)).reduce((n, o) => n + Number(o.offset), 0);

/** `stackl api` as an operator starts it; resolves with its exit code and what it printed. */
function runApiRole(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('STACKL_API_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/cli/main.ts', 'api'], { env: { ...base, STACKL_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stackl api still running after 45 s: ${stderr}`));
    }, 45_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('start-up refusals', () => {
  it('refuses to serve a non-loopback address without keys: one line, exit 1', async () => {
    const { code, stderr } = await runApiRole({ STACKL_API_HOST: '0.0.0.0', STACKL_API_PORT: '0' });
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([
      'stackl: STACKL_API_HOST=0.0.0.0 is reachable from other machines and STACKL_API_KEYS is not set: set STACKL_API_KEYS, or STACKL_API_INSECURE=1 to serve every route without keys [CONFIG_INVALID]',
    ]);
  });

  it('refuses a key shorter than 32 characters without printing it: one line, exit 1', async () => {
    const { code, stderr } = await runApiRole({ STACKL_API_KEYS: 'short-secret:read', STACKL_API_PORT: '0' });
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^stackl: STACKL_API_KEYS entry 1 has a key of 12 characters; keys must have at least 32 .*\[CONFIG_INVALID\]$/)]);
    expect(stderr).not.toContain('short-secret');
  });

  it('serves a non-loopback address without keys when STACKL_API_INSECURE=1 says so, and warns', async () => {
    const role = new RoleProcess('api', { STACKL_API_HOST: '0.0.0.0', STACKL_API_PORT: '0', STACKL_API_INSECURE: '1', STACKL_TOPIC_PREFIX: h.config.topicPrefix, STACKL_DB_SCHEMA: h.config.databaseSchema }, /api listening on/);
    try {
      await role.start(60_000);
      expect(role.output.join('')).toContain('serving every route without API keys to the network');
    } finally {
      await role.kill('SIGTERM');
    }
  });

  it('logs each request it answered with STACKL_API_ACCESS_LOG=1, and never the API key', async () => {
    const key = 'an-access-log-test-key-of-32-characters-or-more';
    const role = new RoleProcess('api', { STACKL_API_PORT: '0', STACKL_API_ACCESS_LOG: '1', STACKL_LOG_LEVEL: 'info', STACKL_API_KEYS: `${key}:read`, STACKL_TOPIC_PREFIX: h.config.topicPrefix, STACKL_DB_SCHEMA: h.config.databaseSchema }, /api listening on/);
    try {
      await role.start(60_000);
      const address = /api listening on (\S+)/.exec(role.output.join(''))?.[1] as string;
      expect((await fetch(`${address}/tasks?limit=1`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      expect((await fetch(`${address}/tasks?limit=1`)).status).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const lines = role.output.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; log?: string; res?: { statusCode: number } });
      expect(lines.filter((l) => l.log === 'access' && l.msg === 'request completed').map((l) => l.res?.statusCode)).toEqual([200, 401]);
      expect(role.output.join('')).not.toContain(key);
    } finally {
      await role.kill('SIGTERM');
    }
  });
});

describe('commands only as JSON', () => {
  const id = taskIdForKey('json-only');
  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'kind=probe&action=run'],
    ['a multipart form', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="kind"\r\n\r\nprobe\r\n--x--'],
    ['text', 'text/plain', '{"kind":"probe","action":"run","payload":{"outcome":"succeed"}}'],
    ['no content type and no body', undefined, undefined],
  ])('refuses %s on every command route with 415, before Kafka sees it', async (_what, type, body) => {
    const before = await requestsIn();
    for (const url of ['/tasks', `/tasks/${id}/cancel`, `/tasks/${id}/rollback/retry`]) {
      const res = await h.app.inject({ method: 'POST', url, headers: type === undefined ? {} : { 'content-type': type }, ...(body === undefined ? {} : { payload: body }) });
      expect([url, res.statusCode, res.json().code, res.headers['content-type']]).toEqual([url, 415, 'UNSUPPORTED_MEDIA_TYPE', expect.stringMatching(/^application\/problem\+json/)]);
    }
    expect(await requestsIn()).toBe(before);
  });

  it('takes JSON, with a charset, and a command without a body when it says JSON', async () => {
    const typed = await h.app.inject({ method: 'POST', url: `/tasks/${id}/cancel`, headers: { 'content-type': 'Application/JSON; charset=utf-8' } });
    expect(typed.statusCode).toBe(202);
    const nowhere = await h.app.inject({ method: 'POST', url: '/nowhere', headers: { 'content-type': 'text/plain' }, payload: 'x' });
    expect([nowhere.statusCode, nowhere.json().code]).toEqual([404, 'ROUTE_NOT_FOUND']);
  });
});

describe('STACKL_API_PROTECT_DOCS', () => {
  const [reader, submitter] = ['reader', 'submitter'].map((who) => `${who}-${'k'.repeat(32)}`) as [string, string];
  it('puts /metrics, /docs and /docs/json behind the read scope; without it they stay open', async () => {
    const keys = parseApiKeys(`${reader}:read;${submitter}:submit`);
    const guarded = await buildWith(h, { apiKeys: keys, protectDocs: true });
    const open = await buildWith(h, { apiKeys: keys });
    try {
      for (const url of ['/metrics', '/docs/json', '/docs/']) {
        const none = await guarded.inject({ method: 'GET', url });
        expect([url, none.statusCode, none.json().code]).toEqual([url, 401, 'UNAUTHENTICATED']);
        const wrong = await guarded.inject({ method: 'GET', url, headers: { authorization: `Bearer ${submitter}` } });
        expect([url, wrong.statusCode, wrong.json().requiredScope]).toEqual([url, 403, 'read']);
        expect([url, (await guarded.inject({ method: 'GET', url, headers: { 'x-api-key': reader } })).statusCode]).toEqual([url, 200]);
        expect([url, (await open.inject({ method: 'GET', url })).statusCode]).toEqual([url, 200]);
      }
      // Probes stay open: orchestrators carry no keys.
      expect((await guarded.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await guarded.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await guarded.close();
      await open.close();
    }
  });
});

describe('payloads nested 20,000 deep', () => {
  const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
  const documentBody = (body: string) => `{"kind":"document","action":"create","payload":{"documents":[{"key":"a/b/c","body":${body}}]}}`;
  const stackBody = (config: string) => `{"kind":"stack","action":"create","payload":{"name":"s","services":[{"name":"web","config":${config}}]}}`;

  it.each([
    ['a document body', documentBody(`{"a":${deep}}`)],
    ['a document update', documentBody(`{"a":${deep}}`).replace('"create"', '"update"')],
    ['a stack service config', stackBody(`{"a":${deep}}`)],
    ['a stack payload itself', `{"kind":"stack","action":"create","payload":${deep}}`],
    ['a probe\'s ballast', `{"kind":"probe","action":"run","payload":{"outcome":"succeed","ballast":${deep}}}`],
  ])('in %s: 400 PAYLOAD_TOO_DEEP, never a 500, and the API keeps serving', async (_where, body) => {
    const res = await h.app.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: body });
    expect([res.statusCode, res.json().code, res.json().maxDepth]).toEqual([400, 'PAYLOAD_TOO_DEEP', 64]);
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('outside the payload: 400 VALIDATION_FAILED (the body schema never walks it)', async () => {
    for (const body of [`{"kind":"probe","action":"run","payload":{},"colour":${deep}}`, `{"kind":"probe","action":"run","payload":{},"origin":${deep}}`, `{"kind":${deep},"action":"run","payload":{}}`]) {
      const res = await h.app.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: body });
      expect([res.statusCode, res.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    const cancel = await h.app.inject({ method: 'POST', url: `/tasks/${taskIdForKey('deep')}/cancel`, headers: { 'content-type': 'application/json' }, payload: `{"reason":${deep}}` });
    expect([cancel.statusCode, cancel.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('a payload exactly 64 deep is still taken', async () => {
    // payload, documents, the document, its body: 4 levels, and 60 arrays inside.
    const body = documentBody(`{"a":${'['.repeat(60)}${']'.repeat(60)}}`);
    expect((await h.app.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: body })).statusCode).toBe(202);
  });
});

describe('timeouts', () => {
  it('closes a request that does not arrive in full within the request timeout (408)', async () => {
    const api = await startApi(h.config, { deps: h.owned.deps, env: {}, options: { port: 0, requestTimeoutMs: 1000 } });
    try {
      const { port } = new URL(api.address);
      const socket: Socket = connect(Number(port), '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      const began = Date.now();
      // Headers, then one byte of a 100-byte body, then nothing: a slow-loris client.
      socket.write('POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      const at = await closed;
      expect(at - began).toBeGreaterThanOrEqual(900);
      expect(at - began).toBeLessThan(4000);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await api.stop();
    }
  });

  it('answers 503 when PostgreSQL accepts a connection but never answers, instead of waiting for ever', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const owned = await createApiDeps({ ...h.config, databaseUrl: `postgres://postgres@127.0.0.1:${port}/stackl` }, { options: { dbConnectTimeoutMs: 500 } });
    const app = build(owned.deps);
    try {
      const began = Date.now();
      const res = await app.inject({ method: 'GET', url: `/tasks/${taskIdForKey('silent')}` });
      expect(Date.now() - began).toBeLessThan(3000);
      expect([res.statusCode, res.json().code, res.json().service, res.headers['retry-after']]).toEqual([503, 'SERVICE_UNAVAILABLE', 'postgres', '2']);
    } finally {
      await app.close();
      await owned.close();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

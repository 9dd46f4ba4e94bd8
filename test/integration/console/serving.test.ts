// The console's files and data routes on the real services (no browser): /ui serves the
// built bundle with the right types and never a file outside it; the files need no key,
// /whoami and /tasks/live do; /tasks/live streams changed tasks and ends when the
// client goes away or the server closes.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../../api/api-keys.js';
import { buildWith, startHarness, type ApiHarness } from '../api/harness.js';
import { insertTask } from '../api/rows.js';

const READER = 'r'.repeat(40);
const OPERATOR = 'o'.repeat(40);
let h: ApiHarness;
let root: string;

beforeAll(async () => {
  // A stand-in bundle: what matters here is how files are served, not what they hold.
  root = await mkdtemp(join(tmpdir(), 'stackl-ui-'));
  await mkdir(join(root, 'assets'));
  await writeFile(join(root, 'index.html'), '<!doctype html><title>console</title>');
  await writeFile(join(root, 'assets', 'app-1234.js'), 'console.log(1)');
  await writeFile(join(root, 'assets', 'app-1234.css'), 'body{}');
  h = await startHarness('console', { consoleRoot: join(root, 'ui') });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await rm(root, { recursive: true, force: true });
});

describe('GET /ui', () => {
  it('serves index.html at /ui and /ui/, assets with their types, and 404 problem+json otherwise', async () => {
    const app = await buildWith(h, { consoleRoot: root });
    for (const url of ['/ui', '/ui/', '/ui/index.html']) {
      const r = await app.inject(url);
      expect([url, r.statusCode, r.headers['content-type']]).toEqual([url, 200, 'text/html; charset=utf-8']);
      expect(r.body).toContain('<title>console</title>');
      expect(r.headers['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    }
    expect((await app.inject('/ui/assets/app-1234.js')).headers).toMatchObject({ 'content-type': 'text/javascript; charset=utf-8', 'cache-control': expect.stringContaining('immutable') });
    expect((await app.inject('/ui/assets/app-1234.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const missing = await app.inject('/ui/assets/nope.js');
    expect([missing.statusCode, missing.headers['content-type'], missing.json().code]).toEqual([404, expect.stringMatching(/^application\/problem\+json/), 'NOT_FOUND']);
    expect((await app.inject('/ui/assets')).statusCode).toBe(404);
    await app.close();
  });

  it('never serves a file outside its folder', async () => {
    const app = await buildWith(h, { consoleRoot: join(root, 'assets') });
    // index.html is outside assets/: reachable only by climbing out.
    await writeFile(join(root, 'assets', 'index.html'), 'inner');
    for (const url of ['/ui/../index.html', '/ui/..%2findex.html', '/ui/%2e%2e/index.html', '/ui/%2e%2e%2f%2e%2e%2fpackage.json', '/ui/..%5cindex.html', '/ui/%00', '/ui//etc/passwd']) {
      const r = await app.inject(url);
      expect([url, r.statusCode]).toEqual([url, 404]);
      expect(r.body).not.toContain('<title>console</title>');
    }
    await app.close();
  });

  it('says to run npm run build when the console is not built', async () => {
    const r = await h.app.inject('/ui');
    expect([r.statusCode, r.headers['content-type']]).toEqual([404, expect.stringMatching(/^application\/problem\+json/)]);
    expect(r.json().detail).toMatch(/npm run build/);
  });

  it('needs no key for its files; /whoami needs the read scope and tells the scopes', async () => {
    const app = await buildWith(h, { consoleRoot: root, apiKeys: parseApiKeys(`${READER}:read; ${OPERATOR}:read,operate`) });
    expect((await app.inject('/ui/')).statusCode).toBe(200);
    expect((await app.inject('/whoami')).statusCode).toBe(401);
    expect((await app.inject('/tasks/live')).statusCode).toBe(401);
    expect((await app.inject('/dead-letters')).statusCode).toBe(401);
    expect((await app.inject('/stats/throughput')).statusCode).toBe(401);
    expect((await app.inject('/partitions')).statusCode).toBe(401);
    // No broker, worker or projector runs here: every partition without an owner, nothing committed.
    const partitions = (await app.inject({ url: '/partitions', headers: { authorization: `Bearer ${READER}` } })).json();
    expect(partitions.items.map((p: { role: string }) => p.role).sort()).toEqual(['broker', 'broker', 'projector', 'projector', 'workers', 'workers']);
    expect(partitions.items[0]).toMatchObject({ owner: null, committed: null, lag: 0 });
    expect((await app.inject({ url: '/stats/throughput?minutes=0', headers: { authorization: `Bearer ${READER}` } })).statusCode).toBe(400);
    expect((await app.inject({ url: '/stats/throughput', headers: { authorization: `Bearer ${READER}` } })).json()).toMatchObject({ bucketSeconds: 10, buckets: expect.any(Array) });
    expect((await app.inject({ url: '/dead-letters?limit=0', headers: { authorization: `Bearer ${READER}` } })).statusCode).toBe(400);
    expect((await app.inject({ url: '/whoami', headers: { authorization: `Bearer ${READER}` } })).json()).toEqual({ keys: true, scopes: ['read'] });
    expect((await app.inject({ url: '/whoami', headers: { authorization: `Bearer ${OPERATOR}` } })).json().scopes.sort()).toEqual(['operate', 'read']);
    expect((await h.app.inject('/whoami')).json()).toEqual({ keys: false, scopes: ['submit', 'read', 'operate'] });
    await app.close();
  });
});

describe('GET /tasks/live', () => {
  it('sends each changed task as a data line, ends when the client leaves, and does not hold app.close()', async () => {
    const app = await buildWith(h, { livePollMs: 100 });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const open = (): Promise<IncomingMessage> => new Promise((resolve, reject) => get(`${address}/tasks/live`, resolve).on('error', reject));
    const first = await open();
    expect([first.statusCode, first.headers['content-type']]).toEqual([200, 'text/event-stream; charset=utf-8']);
    const id = await insertTask(h.owned.deps.pool, h.owned.deps.schema, { status: 'InProgress' });
    let text = '';
    first.setEncoding('utf8');
    await new Promise<void>((resolve) => first.on('data', (chunk: string) => (text += chunk).includes(id) && resolve()));
    const line = text.split('\n').find((l) => l.startsWith('data:') && l.includes(id));
    expect(JSON.parse(line!.slice(5))).toMatchObject({ id, status: 'InProgress', kind: 'probe' });
    first.destroy();
    // The client gone, its stream stops and its socket goes.
    const connections = () => new Promise<number>((resolve) => app.server.getConnections((_e, n) => resolve(n)));
    for (let i = 0; i < 40 && (await connections()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await connections()).toBe(0);

    // A second stream still open when the server closes: close must end it, not wait for it.
    const second = await open();
    const ended = new Promise<void>((resolve) => second.on('close', resolve).resume());
    const started = Date.now();
    await app.close();
    await ended;
    expect(Date.now() - started).toBeLessThan(2000);
  }, 15_000);

  it('outlives the request and connection timeouts: a quiet stream gets keep-alive comments', async () => {
    const app = await buildWith(h, { livePollMs: 100, requestTimeoutMs: 1000, connectionTimeoutMs: 1500, maxWaitMs: 0, submitTimeoutMs: 100 });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const stream = await new Promise<IncomingMessage>((resolve, reject) => get(`${address}/tasks/live`, resolve).on('error', reject));
    let text = '';
    let closed = false;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('close', () => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(closed).toBe(false);
    expect(text.match(/: keep-alive/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
    await app.close();
  }, 15_000);
});

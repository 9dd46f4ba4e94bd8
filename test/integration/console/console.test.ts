// The web console in a real browser (Debian's chromium driven by playwright-core) on the
// real pipeline: broker, worker, projector and the API serving a bundle this file builds
// itself, so it never tests a stale dist/ui. A task submitted reaches Completed on the
// list without a reload; its page shows its timeline; Cancel and Retry rollback go
// through their confirmation to the API; with API keys on, the key is asked for and a
// read-only key sees no buttons; a dead letter is listed with its origin; throughput
// and latency are drawn; the consumer groups' partitions are listed. The screenshot of the list goes to .stackl/console.png (docs/console.png with STACKL_UPDATE_SCREENSHOT=1).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build as viteBuild } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { build, type StacklApi } from '../../../api/app.js';
import { parseApiKeys } from '../../../api/api-keys.js';
import { createApiDeps, type OwnedApiDeps } from '../../../api/deps-factory.js';
import { loadConfig } from '../../../core/config.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { startProjector, type RunningProjector } from '../../../processors/projection/projector.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import { createWorker, defineKind, implement } from '../../../index.js';
import { z } from 'zod';
import type { Worker } from '../../../workers/worker.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, uniqueSchema } from '../../support/postgres.js';

const CHROMIUM = '/usr/bin/chromium';
const READER = 'reader-'.padEnd(40, 'r');
const OPERATOR = 'operator-'.padEnd(40, 'o');
const schema = uniqueSchema('console');
const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('console'), STACKL_PARTITIONS: '2', STACKL_DB_SCHEMA: schema });

let bundle: string;
let broker: RunningLifecycleApp | undefined;
let worker: Worker | undefined;
let projector: RunningProjector | undefined;
let owned: OwnedApiDeps | undefined;
let api: StacklApi | undefined;
let guarded: StacklApi | undefined;
let browser: Browser | undefined;
let address: string;
let guardedAddress: string;

beforeAll(async () => {
  // Loudly: a machine without chromium fails here rather than skipping the browser tests.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
  bundle = await mkdtemp(join(tmpdir(), 'stackl-console-'));
  await viteBuild({ configFile: 'console/vite.config.ts', logLevel: 'warn', build: { outDir: bundle, emptyOutDir: true } });
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: '4' });
  projector = await startProjector(config);
  owned = await createApiDeps(config, { options: { consoleRoot: bundle, livePollMs: 200 } });
  api = build(owned.deps);
  address = await api.listen({ port: 0, host: '127.0.0.1' });
  guarded = build({ ...owned.deps, options: { consoleRoot: bundle, livePollMs: 200, apiKeys: parseApiKeys(`${READER}:read; ${OPERATOR}:read,operate,submit`) } });
  guardedAddress = await guarded.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 180_000);

afterAll(async () => {
  // Each step on its own: one that fails must not leave the browser or a service running.
  await browser?.close().catch(() => {});
  await Promise.allSettled([api?.close(), guarded?.close()]);
  await Promise.allSettled([worker?.stop()]);
  await owned?.close();
  await broker?.stop();
  await projector?.stop();
  await dropSchema(schema);
  if (bundle !== undefined) await rm(bundle, { recursive: true, force: true });
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${address}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'probe', action: 'run', ...body }) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

/** What the pages said on their console, and what they failed to load: every test ends with none. */
const complaints: string[] = [];

async function openPage(url: string): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => complaints.push(`page error: ${error.message}`));
  // A 401 before the key is given, a 404 for a task not projected yet: expected answers, not faults.
  page.on('console', (m) => m.type() === 'error' && !/status of (401|404)/.test(m.text()) && complaints.push(`console: ${m.text()}`));
  await page.goto(url);
  return page;
}

const row = (page: Page, id: string) => page.locator(`tr[data-task-id="${id}"]`);

describe('the web console', () => {
  afterEach(() => {
    expect(complaints.splice(0)).toEqual([]);
  });

  it('shows a submitted task reach Completed on the list without a reload, then its timeline', async () => {
    const page = await openPage(`${address}/ui/`);
    await page.locator('.live.on').waitFor({ timeout: 15_000 });
    // Set on this document: still there at the end means no reload happened.
    await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
    const others = [await submit({ payload: { outcome: 'succeed' } }), await submit({ payload: { outcome: 'fail' } })];
    const id = await submit({ payload: { outcome: 'succeed', durationMs: 1500 } });
    await row(page, id).waitFor({ timeout: 20_000 });
    await row(page, id).locator('[data-status="Completed"]').waitFor({ timeout: 30_000 });
    for (const other of others) await row(page, other).locator('[data-status="Completed"], [data-status="Failed"]').waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // Keys off: every scope, and no key to forget.
    expect(await page.locator('.scopes').getAttribute('data-scopes')).toBe('submit,read,operate');
    expect(await page.getByRole('button', { name: 'Forget key' }).count()).toBe(0);
    // Every run keeps its screenshot under .stackl/; the README's copy changes only when asked
    // (STACKL_UPDATE_SCREENSHOT=1), so a test run leaves the tracked tree as it was.
    await page.screenshot({ path: process.env.STACKL_UPDATE_SCREENSHOT === '1' ? 'docs/console.png' : '.stackl/console.png' });

    await row(page, id).locator('a').click();
    await page.locator('tr[data-event="TaskCompleted"]').waitFor({ timeout: 10_000 });
    const events = await page.locator('tr[data-event]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
    expect(events).toEqual(expect.arrayContaining(['TaskSubmitted', 'AttemptDispatched', 'AttemptSucceeded', 'TaskCompleted']));
    expect(await page.locator('.data pre').first().textContent()).toContain('"durationMs": 1500');
    // The attempt's duration, from its dispatch to its result: the probe worked 1.5 s.
    const took = /\((\d+) ms\)/.exec((await page.locator('tr[data-event="AttemptSucceeded"]').textContent()) ?? '');
    expect(Number(took?.[1])).toBeGreaterThanOrEqual(1400);
    // A completed task offers no action.
    expect(await page.locator('.actions button').count()).toBe(0);
    await page.context().close();
  }, 90_000);

  it('opens a task searched by its id or by its idempotency key', async () => {
    const id = await submit({ payload: { outcome: 'succeed' }, idempotencyKey: 'console key #1' });
    const page = await openPage(`${address}/ui/`);
    for (const text of ['console key #1', id]) {
      await page.goto(`${address}/ui/#/`);
      await page.locator('input[name="search"]').fill(text);
      await page.getByRole('button', { name: 'Open' }).click();
      await page.locator('.facts [data-status="Completed"]').waitFor({ timeout: 20_000 });
      expect(await page.locator('h1 code').textContent()).toBe(id);
    }
    await page.context().close();
  }, 90_000);

  it('cancels a running task through the button and its confirmation, and shows it Failed and rolled back', async () => {
    const id = await submit({ payload: { outcome: 'hang' }, timeoutMs: 60_000 });
    const page = await openPage(`${address}/ui/#/task/${id}`);
    // Available or InProgress, Cancel applies; the page picks the task up from the live stream.
    await page.locator('.facts [data-status="Available"], .facts [data-status="InProgress"]').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Yes, cancel' }).click();
    await page.locator('.facts [data-status="Failed"]').waitFor({ timeout: 30_000 });
    await page.locator('.facts [data-rollback="done"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('tr[data-event="CancelRequested"], tr[data-event="TaskCancelled"], tr[data-event="TaskFailed"]').count()).toBeGreaterThan(0);
    await page.context().close();
  }, 90_000);

  it('lists a failed rollback under "needs a person", and Retry rollback dispatches it again', async () => {
    const id = await submit({ payload: { outcome: 'fail', rollback: 'fail' }, rollbackMaxAttempts: 1 });
    const page = await openPage(`${address}/ui/#/attention`);
    await row(page, id).waitFor({ timeout: 30_000 });
    await row(page, id).locator('a').click();
    await page.locator('.facts [data-rollback="failed"]').waitFor({ timeout: 10_000 });
    const dispatched = page.locator('tr[data-event="RollbackDispatched"]');
    const before = await dispatched.count();
    expect(before).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Retry rollback' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Yes, retry rollback' }).click();
    await expect.poll(() => dispatched.count(), { timeout: 30_000 }).toBeGreaterThan(before);
    await page.context().close();
  }, 90_000);

  it('with API keys on, asks for a key once; a read-only key sees no buttons, an operator key does', async () => {
    const id = await submit({ payload: { outcome: 'fail', rollback: 'fail' }, rollbackMaxAttempts: 1 });
    const reader = await openPage(`${guardedAddress}/ui/`);
    await reader.locator('form.key-prompt').waitFor({ timeout: 10_000 });
    await reader.locator('form.key-prompt input').fill(READER);
    await reader.locator('form.key-prompt button').click();
    await row(reader, id).waitFor({ timeout: 30_000 });
    expect(await reader.locator('.scopes').getAttribute('data-scopes')).toBe('read');
    expect(await reader.getByRole('button', { name: 'Forget key' }).count()).toBe(1);
    await row(reader, id).locator('a').click();
    await reader.locator('.facts [data-rollback="failed"]').waitFor({ timeout: 30_000 });
    expect(await reader.locator('.actions button').count()).toBe(0);
    // Kept for the tab: a reload asks no more.
    await reader.reload();
    await reader.locator('.facts [data-rollback="failed"]').waitFor({ timeout: 10_000 });
    expect(await reader.locator('form.key-prompt').count()).toBe(0);
    await reader.context().close();

    const operator = await openPage(`${guardedAddress}/ui/#/task/${id}`);
    await operator.locator('form.key-prompt input').fill(OPERATOR);
    await operator.locator('form.key-prompt button').click();
    await operator.getByRole('button', { name: 'Retry rollback' }).waitFor({ timeout: 10_000 });
    await operator.context().close();
  }, 90_000);

  it('lists a dead letter with where it came from and why', async () => {
    const producer = testKafka().producer();
    await producer.connect();
    try {
      await producer.send({
        topic: topicNames(config.topicPrefix).dlq,
        messages: [{
          key: 'poison-key',
          value: Buffer.from([0xc3, 0x01, 0xff, 0x00]),
          headers: { [DLQ_HEADERS.topic]: 'task.results', [DLQ_HEADERS.partition]: '1', [DLQ_HEADERS.offset]: '42', [DLQ_HEADERS.code]: 'UNDECODABLE', [DLQ_HEADERS.message]: 'not a STACKL record', [DLQ_HEADERS.app]: 'console-test' },
        }],
      });
    } finally {
      await producer.disconnect();
    }
    const page = await openPage(`${address}/ui/#/dead-letters`);
    const record = page.locator('tr[data-dead-letter]', { hasText: 'UNDECODABLE' });
    await record.waitFor({ timeout: 30_000 });
    expect(await record.textContent()).toMatch(/task\.results 1:42.*not a STACKL record.*console-test.*poison-key \(4 bytes\)/);
    await page.context().close();
  }, 90_000);

  it('shows throughput and completion latency over the last minutes', async () => {
    await submit({ payload: { outcome: 'succeed' } });
    const page = await openPage(`${address}/ui/#/throughput`);
    await expect.poll(async () => Number(await page.locator('[data-total="completed"]').textContent()), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(Number(await page.locator('[data-total="submitted"]').textContent())).toBeGreaterThan(0);
    expect(await page.locator('[data-latency="p50"]').textContent()).toMatch(/^\d+ ms$/);
    expect(await page.locator('svg.chart polyline').count()).toBe(3);
    await page.context().close();
  }, 90_000);

  it('lists the kinds, built-in and registered by a worker of their own, with each payload schema', async () => {
    const beacon = defineKind({ name: 'beacon', description: 'a kind of the test', actions: ['ping'], payload: z.strictObject({ host: z.string() }), rollback: 'none', defaults: { timeoutMs: 5_000 } });
    const own = await createWorker({ kinds: [implement(beacon, { run: async (payload) => ({ pong: payload.host }) })], env: { ...process.env, STACKL_TOPIC_PREFIX: config.topicPrefix, STACKL_PARTITIONS: '2', STACKL_DB_SCHEMA: schema }, concurrency: 1 });
    try {
      const page = await openPage(`${address}/ui/#/kinds`);
      const row = page.locator('tr[data-kind="beacon"]');
      await row.waitFor({ timeout: 20_000 });
      const cells = await row.locator('td').allTextContents();
      expect(cells.slice(1, 6)).toEqual(['registered', 'beacon', '1', 'ping', 'none']);
      expect(cells[6]).toBe('timeoutMs 5000');
      expect(await page.locator('tr[data-kind="probe"] td').nth(1).textContent()).toBe('built-in');
      await row.locator('summary').click();
      expect(await row.locator('pre').first().textContent()).toContain('"host"');
      await page.context().close();
    } finally {
      await own.stop();
    }
  }, 90_000);

  it("shows each consumer group's partitions with their owner and lag", async () => {
    const page = await openPage(`${address}/ui/#/partitions`);
    const projector = page.locator('tr[data-role="projector"]');
    await projector.first().waitFor({ timeout: 20_000 });
    expect(await projector.count()).toBe(2);
    expect(await page.locator('tr[data-role="broker"]').count()).toBe(2);
    expect(await page.locator('tr[data-role="workers"]').count()).toBe(2);
    // The projector is up and has read everything: each partition owned, nothing behind for long.
    for (const cells of await projector.evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')))) {
      expect(cells[3]).toMatch(/@/);
      expect(cells[7]).toMatch(/^(ok|behind)$/);
    }
    await page.context().close();
  }, 90_000);
});

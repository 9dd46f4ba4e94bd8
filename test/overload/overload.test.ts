// Overload (`npm run test:overload`): the broker, a worker, the projector and the API as
// processes of the built CLI on the local stack. First what the deployment sustains is
// measured (a burst past the API); then the API gets twice that, open loop, for two
// minutes. Every task it accepted (202) must complete, well inside its timeout; the
// excess must be refused with 503 OVERLOADED and Retry-After; the latency of accepted
// tasks must stay bounded; and after the load the system must serve again by itself.
// Without shedding the queue grows for the whole two minutes, tasks wait past their
// timeout and roll back: the collapse the long chaos run saw at 60 tasks/s.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { provenance } from '../../bench/provenance.js';
import { summarize } from '../../bench/stats.js';
import { loadConfig, type StacklConfig } from '../../core/config.js';
import { migrate } from '../../deploy/migrations/runner.js';
import { ensureTopics } from '../../topics/admin.js';
import { catalogueFor } from '../../topics/catalogue.js';
import { createKafka } from '../../topics/kafka.js';
import { topicNames } from '../../topics/names.js';
import { EventLog } from '../support/event-log.js';
import { uniquePrefix } from '../support/names.js';
import { freePort } from '../support/ports.js';
import { dropSchema, uniqueSchema } from '../support/postgres.js';
import { openLoop, type Answer } from './support/open-loop.js';
import { RoleRun } from './support/processes.js';
import { measureSustained } from './support/sustained.js';

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${process.env[name]}"`);
  return value;
};
/** Offered load as a multiple of the measured sustainable rate. */
const FACTOR = env('OVERLOAD_FACTOR', 2);
const DURATION_MS = env('OVERLOAD_DURATION_S', 120) * 1000;
/** Each probe works this long: the stand-in for real work, so workers, not HTTP, are the limit. */
const TASK_MS = env('OVERLOAD_TASK_MS', 100);
const CONCURRENCY = env('OVERLOAD_WORKER_CONCURRENCY', 16);
const BURST_TASKS = env('OVERLOAD_BURST_TASKS', 3000);
/** Generous: with the default bounds a task waits a few seconds at most. */
const P99_BOUND_MS = env('OVERLOAD_P99_BOUND_MS', 20_000);
/** Seconds of work at the sustained rate the API lets wait ahead of the workers. */
const QUEUE_SECONDS = env('OVERLOAD_QUEUE_S', 5);
const TASK_TIMEOUT_MS = 60_000;

const probe = { kind: 'probe', action: 'run', payload: { outcome: 'succeed' as const, durationMs: TASK_MS }, timeoutMs: TASK_TIMEOUT_MS };
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logDir = join('.stackl', 'overload-logs', stamp);

let config: StacklConfig;
let events: EventLog;
const roles: RoleRun[] = [];

beforeAll(async () => {
  mkdirSync(logDir, { recursive: true });
  config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('overload'), STACKL_DB_SCHEMA: uniqueSchema('overload') });
  const admin = createKafka(config, 'overload-admin').admin();
  await admin.connect();
  await ensureTopics(admin, catalogueFor(config));
  await admin.disconnect();
  await migrate(config.databaseUrl, config.databaseSchema);
  // The burst that measures capacity goes straight to Kafka; the broker's own shedding
  // (its test: test/integration/broker/shedding.test.ts) is off so all of it runs. The
  // API's shedding is what this test is about.
  const roleEnv = {
    STACKL_TOPIC_PREFIX: config.topicPrefix,
    STACKL_DB_SCHEMA: config.databaseSchema,
    STACKL_CHANNEL: 'kafka',
    STACKL_WORKER_CONCURRENCY: String(CONCURRENCY),
    STACKL_BROKER_MAX_ORDER_WAIT_MS: '0',
    STACKL_BROKER_MAX_QUEUED_ORDERS: '0',
  };
  roles.push(...['broker', 'worker', 'projector'].map((name) => new RoleRun(name, roleEnv, logDir)));
  await Promise.all(roles.map((r) => r.start()));
  events = new EventLog(createKafka(config, 'overload-events'), topicNames(config.topicPrefix).events);
  await events.start();
});

afterAll(async () => {
  await events?.stop();
  await Promise.allSettled(roles.map((r) => r.stop()));
  if (config !== undefined) await dropSchema(config.databaseSchema);
});

it(`at ${FACTOR}× the sustainable rate for ${DURATION_MS / 1000} s: accepted tasks complete in bounded time, the excess gets 503 + Retry-After, and it recovers`, async () => {
  const sustained = await measureSustained(createKafka(config, 'overload-burst'), topicNames(config.topicPrefix).requests, config.partitions, events, probe, BURST_TASKS, 300_000);
  const bound = Math.max(20, Math.round(sustained.ratePerSecond * QUEUE_SECONDS));
  const port = await freePort();
  const api = new RoleRun('api', { STACKL_TOPIC_PREFIX: config.topicPrefix, STACKL_DB_SCHEMA: config.databaseSchema, STACKL_API_PORT: String(port), STACKL_API_MAX_QUEUED_ORDERS: String(bound), STACKL_API_MAX_BACKLOG: String(bound) }, logDir);
  roles.push(api);
  await api.start();
  const base = `http://127.0.0.1:${port}`;

  const offeredRate = Math.round(sustained.ratePerSecond * FACTOR);
  const loadBegan = Date.now();
  const answers = await openLoop(`${base}/tasks`, offeredRate, DURATION_MS, () => JSON.stringify(probe));
  const loadEnded = Date.now();
  const accepted = answers.filter((a) => a.status === 202);
  const refused = answers.filter((a) => a.status === 503);
  const others = answers.filter((a) => a.status !== 202 && a.status !== 503);

  // Every accepted task ends (drain: the queue the bounds allow, plus slack).
  const ended = (a: Answer) => (events.byTask.get(a.taskId as string) ?? []).some((e) => e.type === 'TaskCompleted' || e.type === 'TaskFailed' || e.type === 'TaskRejected');
  await events.waitForAll(() => accepted.every(ended), 180_000, () => `${accepted.filter(ended).length} of ${accepted.length} accepted tasks ended`).catch(() => {});
  const drainedAt = Date.now();
  const completedAt = (a: Answer) => events.byTask.get(a.taskId as string)?.find((e) => e.type === 'TaskCompleted')?.time;
  const notCompleted = accepted.filter((a) => completedAt(a) === undefined);
  const latency = summarize(accepted.flatMap((a) => (completedAt(a) === undefined ? [] : [(completedAt(a) as number) - a.sentAt])));

  // Recovery, by itself: submissions ready again, and a fresh task goes all the way through.
  const recovery = await recover(base);
  const figures = {
    at: new Date().toISOString(),
    // Commit, versions and settings, so a figure in the README traces to its run.
    provenance: await provenance(),
    loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
    workload: { task: `probe, ${TASK_MS} ms of work, timeout ${TASK_TIMEOUT_MS} ms`, workerConcurrency: CONCURRENCY, partitions: config.partitions },
    sustained,
    bounds: { maxQueuedOrders: bound, maxBacklog: bound, queueSeconds: QUEUE_SECONDS },
    offered: { ratePerSecond: offeredRate, factor: FACTOR, durationS: DURATION_MS / 1000, requests: answers.length },
    accepted: { count: accepted.length, perSecond: Math.round((accepted.length / (loadEnded - loadBegan)) * 10000) / 10, completed: accepted.length - notCompleted.length },
    refused: { count: refused.length, share: Math.round((refused.length / Math.max(1, answers.length)) * 1000) / 1000, byReason: countBy(refused, (a) => a.reason ?? '?') },
    otherAnswers: countBy(others, (a) => String(a.status || a.error)),
    latencyMs: { submitToCompleted: { p50: latency.p50, p99: latency.p99, max: latency.max }, answer202: pick(summarize(accepted.map((a) => a.answeredAt - a.sentAt))), answer503: pick(summarize(refused.map((a) => a.answeredAt - a.sentAt))) },
    drainMs: drainedAt - loadEnded,
    recovery,
    rolesAlive: Object.fromEntries(roles.map((r) => [r.name, r.alive])),
  };
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  mkdirSync('.stackl', { recursive: true });
  writeFileSync(join('.stackl', `overload-${stamp}.json`), `${JSON.stringify(figures, null, 2)}\n`);

  expect(others, 'only 202 and 503 answers').toEqual([]);
  expect(refused.length, 'the excess is refused').toBeGreaterThan(answers.length * 0.2);
  expect(refused.every((a) => a.code === 'OVERLOADED' && /^\d+$/.test(a.retryAfter ?? '')), 'every refusal is OVERLOADED with Retry-After').toBe(true);
  expect(accepted.length, 'the system keeps taking about what it sustains').toBeGreaterThan(sustained.ratePerSecond * (DURATION_MS / 1000) * 0.5);
  expect(notCompleted.map((a) => `${a.taskId}: ${(events.byTask.get(a.taskId as string) ?? []).map((e) => e.type).join(',')}`), 'every accepted task completed').toEqual([]);
  expect(latency.p99, 'p99 submit → completed').toBeLessThan(P99_BOUND_MS);
  expect(recovery).toMatchObject({ submitReady: true, freshTask: 'Completed' });
  expect(figures.rolesAlive).toEqual({ broker: true, worker: true, projector: true, api: true });
}, 1_200_000);

async function recover(base: string): Promise<{ submitReady: boolean; freshTask: string; tookMs: number }> {
  const began = Date.now();
  let submitReady = false;
  while (!submitReady && Date.now() - began < 60_000) {
    submitReady = (await fetch(`${base}/readyz/submit`)).status === 200;
    if (!submitReady) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const res = await fetch(`${base}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(probe) });
  if (res.status !== 202) return { submitReady, freshTask: `submit answered ${res.status}`, tookMs: Date.now() - began };
  const { id, position } = (await res.json()) as { id: string; position: string };
  let status = 'unknown';
  while (status !== 'Completed' && Date.now() - began < 90_000) {
    const read = await fetch(`${base}/tasks/${id}?minPosition=${position}&waitMs=5000`);
    status = read.status === 200 ? ((await read.json()) as { status: string }).status : `read answered ${read.status}`;
    if (status !== 'Completed') await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { submitReady, freshTask: status, tookMs: Date.now() - began };
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function pick(s: { p50: number; p99: number; max: number }) {
  return { p50: s.p50, p99: s.p99, max: s.max };
}

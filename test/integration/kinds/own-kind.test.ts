// A kind of the user's own, end to end on the real services: defined with defineKind,
// served by createWorker in a pool of its own beside the built-in worker, registered on
// task.kinds, accepted by the broker the moment the worker is up, listed by GET /kinds,
// run, failed and rolled back, aborted when cancelled, and guarded against incompatible
// changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { build, type StacklApi } from '../../../api/app.js';
import { createApiDeps, type OwnedApiDeps } from '../../../api/deps-factory.js';
import { loadConfig } from '../../../core/config.js';
import { metricsRegistry } from '../../../core/metrics.js';
import { createWorker, defineKind, implement, TaskFailure } from '../../../index.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, uniqueSchema } from '../../support/postgres.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import type { CliIo } from '../../../api/cli/cli-io.js';
import { kindsCommand } from '../../../api/cli/kinds-command.js';
import { submitCommand } from '../../../api/cli/submit-command.js';

const schema = uniqueSchema('own_kind');
const env = { ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('own-kind'), STACKL_PARTITIONS: '2', STACKL_DB_SCHEMA: schema };
const config = loadConfig(env);
const topics = topicNames(config.topicPrefix);
const client = new KafkaBrokerClient(testKafka(), topics.requests, config.partitions);
const events = new EventLog(testKafka(), topics.events);

const greeting = defineKind({
  name: 'greeting',
  description: 'says hello, and takes it back',
  actions: ['send'],
  payload: z.strictObject({ to: z.string().min(1).max(50), fail: z.boolean().optional(), holdMs: z.number().int().min(0).max(60_000).optional() }),
  rollback: 'compensate',
  defaults: { timeoutMs: 20_000 },
});

/** What the handlers saw, in order: the "client's environment" this kind changes. */
const sent = new Map<string, string>();
const calls: string[] = [];

const served = implement(greeting, {
  async run(payload, ctx) {
    calls.push(`run ${payload.to} attempt ${ctx.attempt}`);
    await ctx.beforeChange();
    sent.set(ctx.taskId, payload.to);
    if (payload.holdMs !== undefined) {
      await ctx.progress(10, 'holding');
      // Ends early when the worker aborts the attempt (a cancel reaches it as a rollback order).
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, payload.holdMs);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          calls.push(`aborted ${payload.to}`);
          reject(ctx.signal.reason as Error);
        });
      });
    }
    if (payload.fail === true) throw new TaskFailure(`could not greet ${payload.to}`, { retriable: false });
    return { greeted: payload.to };
  },
  async rollback(payload, ctx) {
    calls.push(`rollback ${payload.to} of attempt ${ctx.failedAttempt}`);
    sent.delete(ctx.taskId);
  },
});

let broker: RunningLifecycleApp;
let builtIn: Worker;
let worker: Worker;
let owned: OwnedApiDeps;
let api: StacklApi;

beforeAll(async () => {
  await migrate(config.databaseUrl, schema);
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  await events.start();
  builtIn = await startWorker(config, { ...env, STACKL_WORKER_CONCURRENCY: '2' });
  owned = await createApiDeps(config);
  api = build(owned.deps);
  await api.ready();
  worker = await createWorker({ kinds: [served], env, concurrency: 4 });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([worker?.stop(), builtIn?.stop(), client.close(), events.stop()]);
  await api?.close();
  await owned?.close();
  await broker?.stop();
  await dropSchema(schema);
});

describe('a kind of your own', () => {
  it('is accepted as soon as its worker started, runs with its own defaults, and ends with its output', async () => {
    const { taskId } = await client.submit({ kind: 'greeting', action: 'send', payload: { to: 'ada' } });
    const history = await events.waitFor(taskId, (types) => types.includes('TaskCompleted') || types.includes('TaskRejected'));
    expect(history.map((e) => e.type)).toContain('TaskCompleted');
    const submitted = history.find((e) => e.type === 'TaskSubmitted');
    expect(submitted?.type === 'TaskSubmitted' ? submitted.body.task.timeoutMs : undefined).toBe(20_000);
    const succeeded = history.find((e) => e.type === 'AttemptSucceeded');
    expect(succeeded?.type === 'AttemptSucceeded' ? JSON.parse(succeeded.body.output) : undefined).toEqual({ greeted: 'ada' });
    expect(sent.get(taskId)).toBe('ada');
  });

  it('beside the built-in worker: both pools see every order and each serves its own kinds', async () => {
    const probe = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
    const own = await client.submit({ kind: 'greeting', action: 'send', payload: { to: 'grace' } });
    await events.waitFor(probe.taskId, (types) => types.includes('TaskCompleted'));
    await events.waitFor(own.taskId, (types) => types.includes('TaskCompleted'));
    expect(builtIn.stats()).toMatchObject({ notServed: expect.any(Number) });
    expect(builtIn.stats().notServed).toBeGreaterThanOrEqual(2);
    expect(worker.stats().notServed).toBeGreaterThanOrEqual(1);
    // And Prometheus sees them passed over (both workers share this process's registry).
    const counted = (await metricsRegistry.getSingleMetric('stackl_worker_orders_not_served_total')?.get())?.values[0]?.value ?? 0;
    expect(counted).toBeGreaterThanOrEqual(3);
  });

  it('a failure rolls back through its rollback handler', async () => {
    const { taskId } = await client.submit({ kind: 'greeting', action: 'send', payload: { to: 'linus', fail: true } });
    const history = await events.waitFor(taskId, (types) => types.includes('RollbackSucceeded'));
    expect(history.map((e) => e.type)).toEqual(expect.arrayContaining(['AttemptFailed', 'TaskFailed', 'RollbackDispatched', 'RollbackSucceeded']));
    expect(calls).toContain('rollback linus of attempt 1');
    expect(sent.has(taskId)).toBe(false);
  });

  it('a payload that breaks its schema is refused by the broker, naming the field', async () => {
    const { taskId } = await client.submit({ kind: 'greeting', action: 'send', payload: { to: '', shout: true } });
    const [rejected] = await events.waitFor(taskId, (types) => types.includes('TaskRejected'));
    expect(rejected).toMatchObject({ type: 'TaskRejected', body: { code: 'INVALID_PAYLOAD' } });
    expect(rejected?.type === 'TaskRejected' ? rejected.body.message : '').toMatch(/to: .*shout|shout.*to/s);
  });

  it('a cancel aborts the running attempt through its signal, then rolls it back', async () => {
    const { taskId } = await client.submit({ kind: 'greeting', action: 'send', payload: { to: 'barbara', holdMs: 30_000 } });
    await events.waitFor(taskId, (types) => types.includes('AttemptProgressed'));
    await client.cancel(taskId);
    const history = await events.waitFor(taskId, (types) => types.includes('RollbackSucceeded'));
    expect(history.map((e) => e.type)).not.toContain('AttemptSucceeded');
    expect(calls.indexOf('aborted barbara')).toBeGreaterThanOrEqual(0);
    expect(calls.indexOf('aborted barbara')).toBeLessThan(calls.indexOf('rollback barbara of attempt 1'));
    expect(sent.has(taskId)).toBe(false);
  });

  it('GET /kinds lists it with its schema, pool and defaults beside the built-in kinds', async () => {
    const response = await api.inject({ method: 'GET', url: '/kinds' });
    expect(response.statusCode).toBe(200);
    const { kinds } = response.json<{ kinds: { name: string; source: string; pool: string; defaults: object; payloadSchemas: Record<string, { required?: string[] }> }[] }>();
    expect(kinds.map((k) => k.name)).toEqual(expect.arrayContaining(['greeting', 'probe', 'document']));
    const own = kinds.find((k) => k.name === 'greeting');
    expect(own).toMatchObject({ source: 'registered', pool: 'greeting', defaults: { timeoutMs: 20_000 }, rollback: 'compensate', version: 1 });
    expect(own?.payloadSchemas.send?.required).toEqual(['to']);
    const one = await api.inject({ method: 'GET', url: '/kinds/greeting' });
    expect(one.json()).toMatchObject({ name: 'greeting', description: 'says hello, and takes it back' });
    const missing = await api.inject({ method: 'GET', url: '/kinds/nope' });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'KIND_NOT_FOUND']);
  });

  it('the API checks a submission of it against its registered schema (422 naming the field)', async () => {
    const response = await api.inject({ method: 'POST', url: '/tasks', payload: { kind: 'greeting', action: 'send', payload: { to: 7 } } });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect(response.json().detail).toMatch(/payload\.to/);
  });

  it('a compatible change (a new optional field) is registered; an incompatible one refuses to start, naming the field', async () => {
    const widened = defineKind({ ...greeting, version: 2, payload: greeting.payload instanceof z.ZodObject ? greeting.payload.extend({ emoji: z.string().optional() }) : greeting.payload });
    const second = await createWorker({ kinds: [implement(widened, { run: async () => ({}), rollback: async () => {} })], env, concurrency: 1 });
    await second.stop();
    const narrowed = defineKind({ ...greeting, version: 3, payload: z.strictObject({ to: z.string(), lang: z.string() }) });
    await expect(createWorker({ kinds: [implement(narrowed, { run: async () => ({}), rollback: async () => {} })], env })).rejects.toThrow(/new field send\.payload\.lang is required/);
    const elsewhere = await createWorker({ kinds: [implement(widened, { run: async () => ({}), rollback: async () => {} })], env, pool: 'other' }).then(
      () => 'started',
      (error: Error) => error.message,
    );
    expect(elsewhere).toMatch(/served by pool "greeting"/);
    const listed = await api.inject({ method: 'GET', url: '/kinds/greeting' });
    expect(listed.json()).toMatchObject({ version: 2 });
    expect(Object.keys(listed.json().payloadSchemas.send.properties)).toContain('emoji');
  });

  it('stackl kinds prints it, and stackl submit checks and sends a task of it', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { env, out: (t) => out.push(t), err: (t) => err.push(t) };
    expect(await kindsCommand(io).run(['greeting'])).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ name: 'greeting', source: 'registered', pool: 'greeting' });
    out.length = 0;
    expect(await submitCommand(io).run(['--kind', 'greeting', '--action', 'send', '--payload', '{"to":7}'])).not.toBe(0);
    expect(err.join('')).toMatch(/payload\.to/);
    expect(await submitCommand(io).run(['--kind', 'greeting', '--action', 'send', '--payload', '{"to":"margaret"}'])).toBe(0);
    const { id } = JSON.parse(out.join('')) as { id: string };
    await events.waitFor(id, (types) => types.includes('TaskCompleted'));
  });

  it('refuses a worker that would take a built-in kind or the built-in pool', async () => {
    const copy = defineKind({ name: 'probe', actions: ['run'], payload: z.object({}), rollback: 'none' });
    await expect(createWorker({ kinds: [implement(copy, { run: async () => ({}) })], env })).rejects.toThrow(/built-in kind/);
    await expect(createWorker({ kinds: [served], env, pool: 'default' })).rejects.toThrow(/built-in worker's/);
  });
});

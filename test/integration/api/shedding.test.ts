// Load shedding on the real Kafka: what the API answers when Kafka refuses writes
// (a requests topic whose min.insync.replicas this one-node cluster cannot meet:
// NOT_ENOUGH_REPLICAS), when Kafka is not there at all, when too many commands wait
// for Kafka, and when work piles up ahead of the broker or the workers. Every refusal
// is 503 OVERLOADED with Retry-After, and nothing refused reaches task.requests.
import kafkajs, { type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type StacklApi } from '../../../api/app.js';
import { BacklogMonitor, kafkaBacklogReader } from '../../../api/backlog.js';
import { createLogger } from '../../../core/log.js';
import { taskIdForKey } from '../../../processors/broker/ids.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { createKafka } from '../../../topics/kafka.js';
import { consumerGroup, LIFECYCLE_APP, topicNames } from '../../../topics/names.js';
import { WORKERS_APP } from '../../../workers/start-worker.js';
import { consumeCount, testKafka } from '../../support/kafka.js';
import { freePort } from '../../support/ports.js';
import { startHarness, type ApiHarness } from './harness.js';

const { ConfigResourceTypes } = kafkajs;
const JSON_TYPE = { 'content-type': 'application/json' };
const probe = (extra: Record<string, unknown> = {}) => JSON.stringify({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, ...extra });
const submit = (app: StacklApi, extra: Record<string, unknown> = {}) => app.inject({ method: 'POST', url: '/tasks', headers: JSON_TYPE, payload: probe(extra) });
const requestsIn = async (admin: Admin, topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.offset), 0);

async function eventually<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`${what}: not reached in ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function expectOverloaded(res: { statusCode: number; headers: Record<string, unknown>; json(): Record<string, unknown> }, reason: string, retryAfter = '2'): void {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(503);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.headers['retry-after']).toBe(retryAfter);
  expect(res.json()).toMatchObject({ code: 'OVERLOADED', status: 503, reason, retriable: true, type: 'urn:stackl:problem:overloaded' });
}

describe('Kafka refuses writes (NOT_ENOUGH_REPLICAS)', () => {
  let h: ApiHarness;
  let requests: string;
  const minIsr = (value: string) =>
    h.admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: requests, configEntries: [{ name: 'min.insync.replicas', value }] }] });

  beforeAll(async () => {
    h = await startHarness('shed-isr', { backlogPollMs: 200 });
    requests = topicNames(h.config.topicPrefix).requests;
    // One broker cannot hold two in-sync replicas: every acks=all write is refused.
    await minIsr('2');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 503 OVERLOADED naming the broker error, sheds at once for Retry-After seconds, and takes commands again after', async () => {
    // A client that gives up after one retry, so the broker's answer reaches the API quickly.
    const impatient = new KafkaBrokerClient(createKafka({ brokers: h.config.kafkaBrokers, security: h.config.kafkaSecurity, clientId: 'shed-isr', retries: 1 }), requests, h.config.partitions);
    const app = build({ ...h.owned.deps, commands: impatient });
    try {
      const refused = await submit(app);
      expectOverloaded(refused, 'kafka');
      expect(refused.json()).toMatchObject({ kafkaError: 'NOT_ENOUGH_REPLICAS', retryAfterSeconds: 2 });
      // Within the Retry-After window nothing is sent: refused at once, cancels too.
      const began = Date.now();
      expectOverloaded(await submit(app), 'kafka');
      expectOverloaded(await app.inject({ method: 'POST', url: `/tasks/${taskIdForKey('x')}/cancel`, headers: JSON_TYPE }), 'kafka');
      expect(Date.now() - began).toBeLessThan(500);
      const ready = await app.inject({ method: 'GET', url: '/readyz/submit' });
      expect([ready.statusCode, ready.json().detail]).toEqual([503, expect.stringContaining('NOT_ENOUGH_REPLICAS')]);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect(await requestsIn(h.admin, requests)).toBe(0);
      // Kafka can take writes again: after Retry-After the API sends again by itself.
      await minIsr('1');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const accepted = await eventually('a submission accepted', () => submit(app), (r) => r.statusCode === 202);
      expect(accepted.json().id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/stackl_api_shed_total\{reason="kafka"\} ([3-9]|\d{2,})\n/);
    } finally {
      await minIsr('2');
      await app.close();
      await impatient.close();
    }
  });

  it('bounds the commands waiting for Kafka: beyond the bound 503 at once; those waiting land when Kafka takes writes again', async () => {
    const app = build({ ...h.owned.deps, options: { maxPendingSubmits: 2, submitTimeoutMs: 30_000 } });
    try {
      const keys = ['pending-1', 'pending-2'].map((k) => `${k}-${h.config.topicPrefix}`);
      // The default client retries NOT_ENOUGH_REPLICAS for many seconds: these two wait.
      const waiting = keys.map((idempotencyKey) => submit(app, { idempotencyKey }));
      await eventually('two commands pending', async () => (await app.inject({ method: 'GET', url: '/metrics' })).body, (text) => text.includes('stackl_api_pending_commands 2'));
      const began = Date.now();
      const third = await submit(app);
      expect(Date.now() - began).toBeLessThan(500);
      expectOverloaded(third, 'pending');
      expect(third.json()).toMatchObject({ pending: 2 });
      await minIsr('1');
      const answers = await Promise.all(waiting);
      expect(answers.map((a) => [a.statusCode, a.json().id])).toEqual(keys.map((k) => [202, taskIdForKey(k)]));
      expect((await submit(app)).statusCode).toBe(202);
    } finally {
      await minIsr('2');
      await app.close();
    }
  });

  it('answers 503 when Kafka does not acknowledge within the submit timeout, and says the outcome is unknown', async () => {
    const app = build({ ...h.owned.deps, options: { submitTimeoutMs: 1000 } });
    try {
      const idempotencyKey = `late-${h.config.topicPrefix}`;
      const before = await requestsIn(h.admin, requests);
      const began = Date.now();
      const late = await submit(app, { idempotencyKey });
      expect(Date.now() - began).toBeGreaterThanOrEqual(1000);
      expect(Date.now() - began).toBeLessThan(3000);
      expectOverloaded(late, 'kafka');
      expect(late.json()).toMatchObject({ outcome: 'unknown', detail: expect.stringContaining('same idempotencyKey') });
      // It was still on its way: once Kafka takes writes, it lands.
      expect(await requestsIn(h.admin, requests)).toBe(before);
      await minIsr('1');
      await eventually('the late command on task.requests', () => requestsIn(h.admin, requests), (n) => n === before + 1, 30_000);
      const landed = await consumeCount(testKafka(), requests, before + 1, { timeoutMs: 30_000 });
      expect(landed.map((r) => r.message.key?.toString())).toContain(taskIdForKey(idempotencyKey));
    } finally {
      await app.close();
    }
  });
});

describe('Kafka is not there', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startHarness('shed-down');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses at once once the backlog cannot be read, instead of holding requests while Kafka times out', async () => {
    const nowhere = createKafka({ brokers: [`127.0.0.1:${await freePort()}`], clientId: 'shed-down', retries: 1, connectionTimeoutMs: 300, quiet: true });
    const admin = nowhere.admin();
    const log = createLogger({ component: 'test' });
    const backlog = new BacklogMonitor(kafkaBacklogReader(admin, topicNames(h.config.topicPrefix), h.config.topicPrefix, 'kafka'), { pollMs: 200, log });
    backlog.start();
    const commands = new KafkaBrokerClient(nowhere, topicNames(h.config.topicPrefix).requests, h.config.partitions);
    const app = build({ ...h.owned.deps, commands, backlog });
    try {
      const ready = await eventually('submit readiness failing', () => app.inject({ method: 'GET', url: '/readyz/submit' }), (r) => r.statusCode === 503);
      expect(ready.json().detail).toMatch(/admission: Kafka has not answered the backlog reading/);
      const began = Date.now();
      const refused = await submit(app);
      expect(Date.now() - began).toBeLessThan(500);
      expectOverloaded(refused, 'kafka');
    } finally {
      await app.close();
      await backlog.stop();
      await commands.close();
    }
  });
});

describe('work piles up ahead of the broker and the workers', () => {
  let h: ApiHarness;
  let topics: ReturnType<typeof topicNames>;
  beforeAll(async () => {
    // No lifecycle processor and no worker run here: whatever lands waits.
    h = await startHarness('shed-backlog', { maxBacklog: 3, maxQueuedOrders: 4, backlogPollMs: 100 });
    topics = topicNames(h.config.topicPrefix);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** As if the group had processed everything there is now. */
  async function catchUp(app: string, topic: string): Promise<void> {
    const ends = await h.admin.fetchTopicOffsets(topic);
    await h.admin.setOffsets({ groupId: consumerGroup(h.config.topicPrefix, app), topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
  }

  it('accepts up to the request backlog bound, refuses beyond it (not cancels), and accepts again once the broker catches up', async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await submit(h.app));
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202, 503, 503, 503]);
    expectOverloaded(answers[3] as (typeof answers)[number], 'requests');
    expect(answers[3]?.json()).toMatchObject({ backlog: 3, maxBacklog: 3, detail: '3 requests wait for the broker (limit 3); retry after 2 s' });
    expect(await requestsIn(h.admin, topics.requests)).toBe(3);
    const cancel = await h.app.inject({ method: 'POST', url: `/tasks/${answers[0]?.json().id}/cancel`, headers: JSON_TYPE, payload: '{}' });
    expect(cancel.statusCode).toBe(202);
    const submitReady = await h.app.inject({ method: 'GET', url: '/readyz/submit' });
    expect([submitReady.statusCode, submitReady.json().checks.admission.backlog]).toEqual([503, expect.objectContaining({ requests: 4, maxBacklog: 3 })]);
    expect((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await catchUp(LIFECYCLE_APP, topics.requests);
    await eventually('a submission accepted', () => submit(h.app), (r) => r.statusCode === 202);
    expect((await h.app.inject({ method: 'GET', url: '/readyz/submit' })).statusCode).toBe(200);
  });

  it('refuses submissions while orders wait for a worker beyond their bound, and accepts again once workers took them', async () => {
    await catchUp(LIFECYCLE_APP, topics.requests);
    const producer = testKafka().producer();
    await producer.connect();
    // Orders the workers' group has not taken (their content does not matter to the count).
    await producer.send({ topic: topics.dispatch, messages: Array.from({ length: 4 }, (_, i) => ({ key: `order-${i}`, value: 'order', partition: i % h.config.partitions })) });
    await producer.disconnect();
    await eventually('orders read at their bound', () => h.app.inject({ method: 'GET', url: '/readyz/submit' }), (r) => r.statusCode === 503);
    const refused = await submit(h.app);
    expectOverloaded(refused, 'orders');
    expect(refused.json()).toMatchObject({ queuedOrders: 4, maxQueuedOrders: 4 });
    await catchUp(WORKERS_APP, topics.dispatch);
    await catchUp(LIFECYCLE_APP, topics.requests);
    await eventually('a submission accepted', () => submit(h.app), (r) => r.statusCode === 202);
  });
});

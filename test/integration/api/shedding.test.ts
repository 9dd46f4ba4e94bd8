// Load shedding on the real Kafka: what the API answers when Kafka is not there at all,
// and when work piles up ahead of the broker or the workers. Every refusal is 503
// OVERLOADED with Retry-After, and nothing refused reaches task.requests.
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type StacklApi } from '../../../api/app.js';
import { BacklogMonitor, kafkaBacklogReader } from '../../../topics/backlog.js';
import { createLogger } from '../../../core/log.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { createKafka } from '../../../topics/kafka.js';
import { consumerGroup, LIFECYCLE_APP, topicNames } from '../../../topics/names.js';
import { WORKERS_APP } from '../../../workers/start-worker.js';
import { testKafka } from '../../support/kafka.js';
import { freePort } from '../../support/ports.js';
import { startHarness, type ApiHarness } from './harness.js';
import { topicOffsets } from '../../../topics/topic-offsets.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const probe = (extra: Record<string, unknown> = {}) => JSON.stringify({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, ...extra });
const submit = (app: StacklApi, extra: Record<string, unknown> = {}) => app.inject({ method: 'POST', url: '/tasks', headers: JSON_TYPE, payload: probe(extra) });
const requestsIn = async (admin: Admin, topic: string) => (await topicOffsets(admin, topic)).reduce((n, o) => n + Number(o.offset), 0);

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
    // Readings 2 s apart: a command accepted while a reading is under way may count twice
    // until the next one (the estimate errs on the side of more), so the burst below runs
    // just after a reading, to see the bound exactly.
    h = await startHarness('shed-backlog', { maxBacklog: 3, maxQueuedOrders: 4, backlogPollMs: 2000 });
    topics = topicNames(h.config.topicPrefix);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** As if the group had processed everything there is now. */
  async function catchUp(app: string, topic: string): Promise<void> {
    const ends = await topicOffsets(h.admin, topic);
    await h.admin.setOffsets({ groupId: consumerGroup(h.config.topicPrefix, app), topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
  }

  it('accepts up to the request backlog bound, refuses beyond it (not cancels), and accepts again once the broker catches up', async () => {
    await eventually('a reading just taken', () => h.app.inject({ method: 'GET', url: '/readyz/submit' }), (r) => (r.json().checks.admission.backlog?.ageMs ?? 9999) < 300, 15_000);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await submit(h.app));
    expect(answers.map((a) => a.statusCode), JSON.stringify(answers.map((a) => a.json()))).toEqual([202, 202, 202, 503, 503, 503]);
    expectOverloaded(answers[3] as (typeof answers)[number], 'requests');
    expect(answers[3]?.json()).toMatchObject({ backlog: 3, maxBacklog: 3, detail: '3 requests wait for the broker (limit 3); retry after 2 s' });
    expect(await requestsIn(h.admin, topics.requests)).toBe(3);
    const cancel = await h.app.inject({ method: 'POST', url: `/tasks/${answers[0]?.json().id}/cancel`, headers: JSON_TYPE, payload: '{}' });
    expect(cancel.statusCode).toBe(202);
    const submitReady = await h.app.inject({ method: 'GET', url: '/readyz/submit' });
    // The three submissions and the cancel.
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

// Webhook origins end to end on real Kafka: the broker writes each outcome as an order to
// the notifier, which POSTs it to a receiver on 127.0.0.1 until a 2xx answers. Every try
// is signed and carries the same delivery id; an outcome no try delivers is dead-lettered
// with its origin, recorded on the task, and the partition moves on; a host outside the
// allow list is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { deliveryProblem, type Notifier, WEBHOOK_HEADERS } from '../../../processors/notifier/index.js';
import type { OutcomeDocument } from '../../../processors/lifecycle/index.js';
import { useBrokerAndWorker } from '../../support/broker-and-worker.js';
import { readFor, testKafka } from '../../support/kafka.js';
import { Receiver, type Received } from './receiver.js';
import { startTestNotifier } from './test-notifier.js';

const SECRET = 'a-webhook-secret-of-at-least-32-characters';
const h = useBrokerAndWorker('webhooks', 2);
const topics = topicNames(h.config.topicPrefix);
const receiver = new Receiver();
let base = '';
let notifier: Notifier | undefined;

beforeAll(async () => {
  base = await receiver.start();
  notifier = await startTestNotifier(h, SECRET);
}, 60_000);

afterAll(async () => {
  await notifier?.stop();
  await receiver.stop();
});

function header(request: Received, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Checks a request the way a receiver must, and returns its document. */
function verified(request: Received): OutcomeDocument {
  expect(deliveryProblem({ secret: SECRET, body: request.body, timestamp: header(request, WEBHOOK_HEADERS.timestamp), signature: header(request, WEBHOOK_HEADERS.signature) })).toBeNull();
  expect(header(request, 'content-type')).toBe('application/json');
  return JSON.parse(request.body) as OutcomeDocument;
}

async function submitTo(path: string, payload: object, kind = 'probe'): Promise<string> {
  const [receipt] = await h.client.submitMany([{ kind, action: 'run', payload, origin: { type: 'webhook', target: `${base}${path}` } }]);
  return (receipt as { taskId: string }).taskId;
}

describe('webhook origins', () => {
  it('deliver a completed task after a failed try and a stalled one, every try signed under one delivery id', async () => {
    receiver.script('/done', [500, 'stall', 200]);
    const taskId = await submitTo('/done', { outcome: 'succeed' });
    const tries = await receiver.waitFor('/done', 3);
    expect(tries.map((t) => t.answer)).toEqual([500, 'stall', 200]);
    expect(tries.map((t) => header(t, WEBHOOK_HEADERS.attempt))).toEqual(['1', '2', '3']);
    expect(new Set(tries.map((t) => header(t, WEBHOOK_HEADERS.deliveryId))).size).toBe(1);
    const documents = tries.map(verified);
    expect(documents[2]).toMatchObject({ taskId, kind: 'probe', action: 'run', status: 'Completed', decidedBy: 'TaskCompleted', failure: null, rollback: null, attempts: 1 });
    expect(documents[2]?.deliveryId).toBe(header(tries[0] as Received, WEBHOOK_HEADERS.deliveryId));
    expect(documents[2]?.output).toEqual(expect.objectContaining({ probe: 'ok' }));
    // Delivered means done: nothing more is sent.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.to('/done')).toHaveLength(3);
  }, 60_000);

  it('deliver a failed task once its rollback is done', async () => {
    const taskId = await submitTo('/failed', { outcome: 'fail' });
    const [request] = await receiver.waitFor('/failed', 1);
    expect(verified(request as Received)).toMatchObject({ taskId, status: 'Failed', decidedBy: 'RollbackSucceeded', rollback: 'done', output: null, failure: { reason: expect.any(String) } });
  }, 60_000);

  it('answer a submission the broker refused', async () => {
    const taskId = await submitTo('/refused', { anything: true }, 'no-such-kind');
    const [request] = await receiver.waitFor('/refused', 1);
    expect(verified(request as Received)).toMatchObject({ taskId, kind: 'no-such-kind', status: 'Rejected', failure: { reason: 'UNKNOWN_KIND' }, attempts: 0 });
  }, 60_000);

  it('dead-letter an outcome no try delivers, with its origin, and keep delivering the next ones', async () => {
    receiver.script('/down', [503]);
    const lost = await submitTo('/down', { outcome: 'succeed' });
    await receiver.waitFor('/down', 3);
    const next = await submitTo('/after', { outcome: 'succeed' });
    const [request] = await receiver.waitFor('/after', 1);
    expect(verified(request as Received).taskId).toBe(next);
    const dead = (await readFor(testKafka(), topics.dlq, 3_000)).filter((r) => r.message.key?.toString() === lost);
    expect(dead).toHaveLength(1);
    const headers = dead[0]?.message.headers ?? {};
    expect(headers[DLQ_HEADERS.code]?.toString()).toBe('WEBHOOK_UNDELIVERED');
    expect(headers[DLQ_HEADERS.topic]?.toString()).toBe(topics.notifications);
    expect(headers[DLQ_HEADERS.offset]?.toString()).toMatch(/^\d+$/);
    expect(headers[DLQ_HEADERS.replyTarget]?.toString()).toBe(`${base}/down`);
    expect(headers[DLQ_HEADERS.message]?.toString()).toContain('answered 503');
    // Three tries, as configured, and no more.
    expect(receiver.to('/down')).toHaveLength(3);
    // The task's history says its outcome never arrived.
    const history = await h.log.waitFor(lost, (types) => types.includes('ReplyUndelivered'));
    expect(history.find((e) => e.type === 'ReplyUndelivered')?.body).toMatchObject({ target: `${base}/down`, code: 'WEBHOOK_UNDELIVERED', message: expect.stringContaining('failed 3 times') });
  }, 60_000);

  it('never follow a redirect: a 3xx is a failed try, and where it points is never called', async () => {
    receiver.script('/moved', [{ redirectTo: '/elsewhere' }]);
    const taskId = await submitTo('/moved', { outcome: 'succeed' });
    await receiver.waitFor('/moved', 3);
    const history = await h.log.waitFor(taskId, (types) => types.includes('ReplyUndelivered'));
    expect(history.find((e) => e.type === 'ReplyUndelivered')?.body).toMatchObject({ message: expect.stringContaining('answered 307') });
    expect(receiver.to('/elsewhere')).toHaveLength(0);
  }, 60_000);

  it('give up at once, without a request, on a host the notifier no longer allows (the broker still does)', async () => {
    // The broker allows loopback by default; this notifier was started allowing 127.0.0.1 only.
    const port = new URL(base).port;
    const [receipt] = await h.client.submitMany([{ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, origin: { type: 'webhook', target: `http://localhost:${port}/narrowed` } }]);
    const taskId = (receipt as { taskId: string }).taskId;
    const history = await h.log.waitFor(taskId, (types) => types.includes('ReplyUndelivered'));
    expect(history.find((e) => e.type === 'ReplyUndelivered')?.body).toMatchObject({ code: 'WEBHOOK_HOST_NOT_ALLOWED', message: expect.stringContaining('"localhost" is not allowed') });
    expect(receiver.to('/narrowed')).toHaveLength(0);
  }, 60_000);

  it('refuse, in the broker, a webhook on a host outside the allow list: no request is ever made', async () => {
    const [receipt] = await h.client.submitMany([{ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, origin: { type: 'webhook', target: 'http://10.20.30.40:8080/steal' } }]);
    const taskId = (receipt as { taskId: string }).taskId;
    const rejected = await h.log.waitFor(taskId, (types) => types.includes('TaskRejected'));
    const event = rejected.find((e) => e.type === 'TaskRejected');
    expect(event?.body).toMatchObject({ code: 'INVALID_ORIGIN', message: expect.stringContaining('10.20.30.40') });
  }, 60_000);
});

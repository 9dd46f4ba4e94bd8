// The webhook path as an attacker with a submit key, or with write access to STACKL's
// topics, would try it: outputs at and one byte over the limit, a payload one byte over
// and one nested 20,000 deep (each refusal is delivered as an outcome), forged notifier
// records and forged undelivered reports, and a Kafka answer lost while the notifier
// dead-letters. Each is answered as it must be, and the broker and the notifier keep serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_PAYLOAD_BYTES } from '../../../core/config.js';
import { eventId, uuidV7 } from '../../../processors/broker/ids.js';
import type { Notifier } from '../../../processors/notifier/index.js';
import { encode, taskDispatchSchema, taskRequestSchema } from '../../../schemas/index.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { useBrokerAndWorker } from '../../support/broker-and-worker.js';
import { readFor, testKafka } from '../../support/kafka.js';
import { rawSubmit } from '../../support/raw-requests.js';
import { loseOneProduceAnswer } from '../runtime/lost-answers.js';
import { Receiver } from './receiver.js';
import { startTestNotifier } from './test-notifier.js';

const SECRET = 'the-hostile-webhook-test-secret-0123456789';
const h = useBrokerAndWorker('webhook-hostile', 2);
const topics = topicNames(h.config.topicPrefix);
const receiver = new Receiver();
const producer = testKafka().producer();
let notifier: Notifier | undefined;
let base = '';

beforeAll(async () => {
  base = await receiver.start();
  notifier = await startTestNotifier(h, SECRET, { maxAttempts: 2, initialBackoffMs: 50, maxBackoffMs: 50 });
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await producer.disconnect();
  await notifier?.stop();
  await receiver.stop();
});

const webhook = (path: string) => ({ type: 'webhook' as const, target: `${base}${path}` });
/** `{"probe":"ok","attempt":1,"pad":"…"}` of exactly `bytes` bytes. */
const padFor = (bytes: number) => bytes - JSON.stringify({ probe: 'ok', attempt: 1, pad: '' }).length;

async function sendRequest(taskId: string, value: Buffer): Promise<void> {
  await producer.send({ topic: topics.requests, acks: -1, messages: [{ key: taskId, value, partition: partitionForKey(taskId, h.config.partitions) }] });
}

const documentOf = async (path: string) => JSON.parse((await receiver.waitFor(path, 1))[0]?.body ?? 'null') as Record<string, unknown>;

describe('webhooks under hostile input', () => {
  it('deliver an output at the limit whole, and a failure for one a byte over', async () => {
    await h.client.submitMany([{ kind: 'probe', action: 'run', payload: { outcome: 'succeed', outputBytes: padFor(DEFAULT_MAX_OUTPUT_BYTES) }, origin: webhook('/at-limit') }]);
    const atLimit = await documentOf('/at-limit');
    expect(atLimit).toMatchObject({ status: 'Completed' });
    expect(JSON.stringify(atLimit.output).length).toBe(DEFAULT_MAX_OUTPUT_BYTES);

    await h.client.submitMany([{ kind: 'probe', action: 'run', payload: { outcome: 'succeed', outputBytes: padFor(DEFAULT_MAX_OUTPUT_BYTES) + 1 }, origin: webhook('/over-limit') }]);
    expect(await documentOf('/over-limit')).toMatchObject({ status: 'Failed', rollback: 'done', output: null, failure: { message: expect.stringContaining(String(DEFAULT_MAX_OUTPUT_BYTES)) } });
  }, 60_000);

  it('deliver the refusal of a payload a byte over the limit and of one nested 20,000 deep', async () => {
    const over = uuidV7();
    await sendRequest(over, rawSubmit(over, { payload: JSON.stringify({ outcome: 'succeed', pad: 'x'.repeat(DEFAULT_MAX_PAYLOAD_BYTES) }).slice(0, DEFAULT_MAX_PAYLOAD_BYTES + 1), origin: webhook('/too-large') }));
    const deep = uuidV7();
    await sendRequest(deep, rawSubmit(deep, { payload: `{"outcome":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, origin: webhook('/too-deep') }));
    expect(await documentOf('/too-large')).toMatchObject({ taskId: over, status: 'Rejected', failure: { reason: 'PAYLOAD_TOO_LARGE' } });
    expect(await documentOf('/too-deep')).toMatchObject({ taskId: deep, status: 'Rejected', failure: { reason: 'INVALID_PAYLOAD' } });
  }, 60_000);

  it('dead-letter forged notifier records with their origin, without a request, and keep delivering', async () => {
    const order = (body: object, type: 'DeliverOutcome' | 'RunAttempt', taskId = uuidV7()) =>
      encode(taskDispatchSchema, { eventId: eventId(), taskId, sequence: 1, time: Date.now(), causationId: null, correlationId: null, type, body } as never);
    await producer.send({
      topic: topics.notifications,
      acks: -1,
      messages: [
        { key: 'garbage', value: Buffer.from('not an order'), partition: 0 },
        { key: 'steal', value: order({ target: 'http://169.254.169.254/latest/meta-data/', document: '{}' }, 'DeliverOutcome'), partition: 0 },
      ],
    });
    await h.client.submitMany([{ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, origin: webhook('/after-forgeries') }]);
    expect(await documentOf('/after-forgeries')).toMatchObject({ status: 'Completed' });
    const dead = (await readFor(testKafka(), topics.dlq, 3_000)).filter((r) => r.message.headers?.[DLQ_HEADERS.topic]?.toString() === topics.notifications);
    const codes = dead.map((r) => r.message.headers?.[DLQ_HEADERS.code]?.toString());
    expect(codes).toEqual(expect.arrayContaining([expect.stringMatching(/^DECODE_/), 'WEBHOOK_HOST_NOT_ALLOWED']));
    expect(receiver.received.filter((r) => r.path.includes('meta-data'))).toEqual([]);
  }, 60_000);

  it('record a forged undelivered report on a live task only, its text bounded, and keep serving', async () => {
    const report = (taskId: string, message: string) =>
      encode(taskRequestSchema, { eventId: eventId(), taskId, sequence: 0, time: Date.now(), causationId: null, correlationId: null, type: 'ReportUndelivered', body: { target: 'x'.repeat(100_000), code: 'FORGED', message } });
    const { taskId } = await h.client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
    await h.log.waitFor(taskId, (types) => types.includes('TaskCompleted'));
    await sendRequest(taskId, report(taskId, 'y'.repeat(500_000)));
    const unknown = uuidV7();
    await sendRequest(unknown, report(unknown, 'nobody'));
    const history = await h.log.waitFor(taskId, (types) => types.includes('ReplyUndelivered'));
    const body = history.find((e) => e.type === 'ReplyUndelivered')?.body as { target: string; message: string };
    expect(body.target.length).toBeLessThan(2_200);
    expect(body.message.length).toBeLessThan(2_100);
    const { taskId: next } = await h.client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
    await h.log.waitFor(next, (types) => types.includes('TaskCompleted'));
    expect(h.log.byTask.get(unknown)).toBeUndefined();
  }, 60_000);

  it('dead-letter once more when Kafka loses the answer to the dead letter, and keep delivering', async () => {
    receiver.script('/down', [503]);
    const lost = loseOneProduceAnswer(topics.dlq);
    try {
      const [receipt] = await h.client.submitMany([{ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, origin: webhook('/down') }]);
      const taskId = (receipt as { taskId: string }).taskId;
      await h.log.waitFor(taskId, (types) => types.includes('ReplyUndelivered'), 45_000);
      expect(lost.lost()).toBe(1);
      const dead = (await readFor(testKafka(), topics.dlq, 3_000)).filter((r) => r.message.key?.toString() === taskId);
      // At least once: the record whose answer was lost, and the one sent again after it.
      expect(dead.length).toBeGreaterThanOrEqual(1);
      expect(dead.every((r) => r.message.headers?.[DLQ_HEADERS.code]?.toString() === 'WEBHOOK_UNDELIVERED')).toBe(true);
    } finally {
      lost.restore();
    }
    await h.client.submitMany([{ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, origin: webhook('/after-blip') }]);
    expect(await documentOf('/after-blip')).toMatchObject({ status: 'Completed' });
  }, 90_000);
});

// `stackl dlq` on real Kafka: a webhook outcome no try delivered and a poison request are
// listed with where they came from and why; one is shown whole, decoded; once the receiver
// is back, redriving the outcome delivers it under its delivery id. A record of the audit
// log, or a name that is no dead letter, is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../api/cli/cli-io.js';
import { dlqCommand } from '../../../api/cli/dlq-command.js';
import { deliveryProblem, type Notifier, WEBHOOK_HEADERS } from '../../../processors/notifier/index.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { useBrokerAndWorker } from '../../support/broker-and-worker.js';
import { testKafka } from '../../support/kafka.js';
import { Receiver } from '../notifier/receiver.js';
import { startTestNotifier } from '../notifier/test-notifier.js';

const SECRET = 'the-dlq-test-webhook-secret-0123456789abc';
const h = useBrokerAndWorker('dlq-cli', 2);
const topics = topicNames(h.config.topicPrefix);
const receiver = new Receiver();
let notifier: Notifier | undefined;
let base = '';

beforeAll(async () => {
  base = await receiver.start();
  notifier = await startTestNotifier(h, SECRET, { maxAttempts: 2, initialBackoffMs: 50, maxBackoffMs: 50 });
}, 60_000);

afterAll(async () => {
  await notifier?.stop();
  await receiver.stop();
});

const capture = (): CliIo & { lines: string[]; errors: string[] } => {
  const lines: string[] = [];
  const errors: string[] = [];
  return { env: { ...process.env, STACKL_TOPIC_PREFIX: h.config.topicPrefix, STACKL_PARTITIONS: String(h.config.partitions) }, out: (t) => lines.push(t), err: (t) => errors.push(t), lines, errors };
};

async function dlq(...args: string[]): Promise<{ code: number; lines: string[]; errors: string[] }> {
  const io = capture();
  const code = await dlqCommand(io).run(args);
  return { code, lines: io.lines, errors: io.errors };
}

interface Listed {
  dlq: string;
  key: string | null;
  from: { topic: string; partition: number; offset: string } | null;
  code: string | null;
  target: string | null;
}

describe('stackl dlq', () => {
  it('lists, shows and redrives a webhook outcome once its receiver is back', async () => {
    receiver.script('/flaky', [503]);
    const [receipt] = await h.client.submitMany([{ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, origin: { type: 'webhook', target: `${base}/flaky` } }]);
    const taskId = (receipt as { taskId: string }).taskId;
    await h.log.waitFor(taskId, (types) => types.includes('ReplyUndelivered'));
    // A poison request: the broker dead-letters what does not decode.
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({ topic: topics.requests, messages: [{ key: 'not-a-task', value: Buffer.from('definitely not avro') }] });
    // A forged dead letter claiming to come from the audit log.
    await producer.send({ topic: topics.dlq, messages: [{ key: 'forged', value: Buffer.from('x'), headers: { [DLQ_HEADERS.topic]: topics.events, [DLQ_HEADERS.partition]: '0', [DLQ_HEADERS.offset]: '0', [DLQ_HEADERS.code]: 'FORGED' } }] });
    await producer.disconnect();

    let listed: Listed[] = [];
    for (let i = 0; i < 40 && !listed.some((r) => r.from?.topic === topics.requests); i += 1) {
      const list = await dlq('list');
      expect(list.code).toBe(0);
      listed = list.lines.map((l) => JSON.parse(l) as Listed);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const outcome = listed.find((r) => r.key === taskId);
    expect(outcome).toMatchObject({ code: 'WEBHOOK_UNDELIVERED', from: { topic: topics.notifications }, target: `${base}/flaky` });
    expect(listed.find((r) => r.from?.topic === topics.requests)).toMatchObject({ key: 'not-a-task', code: expect.stringMatching(/^DECODE_/) });
    const onlyWebhooks = await dlq('list', '--code', 'WEBHOOK_UNDELIVERED');
    expect(onlyWebhooks.lines.map((l) => (JSON.parse(l) as Listed).key)).toEqual([taskId]);

    const shown = await dlq('show', outcome!.dlq);
    expect(shown.code).toBe(0);
    const record = JSON.parse(shown.lines.join('\n')) as { value: { type: string; taskId: string; body: { target: string } }; headers: Record<string, string> };
    expect(record.value).toMatchObject({ type: 'DeliverOutcome', taskId, body: { target: `${base}/flaky` } });
    expect(record.headers[DLQ_HEADERS.message]).toContain('answered 503');

    receiver.script('/flaky', [200]);
    const redriven = await dlq('redrive', outcome!.dlq);
    expect([redriven.code, redriven.errors]).toEqual([0, []]);
    const tries = await receiver.waitFor('/flaky', 3);
    const delivered = tries[2]!;
    expect(delivered.answer).toBe(200);
    expect(delivered.headers[WEBHOOK_HEADERS.deliveryId]).toBe(tries[0]?.headers[WEBHOOK_HEADERS.deliveryId]);
    expect(deliveryProblem({ secret: SECRET, body: delivered.body, timestamp: String(delivered.headers[WEBHOOK_HEADERS.timestamp]), signature: String(delivered.headers[WEBHOOK_HEADERS.signature]) })).toBeNull();
    expect(JSON.parse(delivered.body)).toMatchObject({ taskId, status: 'Completed' });

    const forged = listed.find((r) => r.key === 'forged')!;
    const refused = await dlq('redrive', forged.dlq);
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toMatch(/read from .*task\.events; only records read from .*\[NOT_REDRIVABLE\]/);
  }, 120_000);

  it('answers a name that is no dead letter, a bad name and an unknown action as such', async () => {
    const missing = await dlq('show', '1:999999');
    expect([missing.code, missing.errors.join('')]).toEqual([1, expect.stringContaining('[DEAD_LETTER_NOT_FOUND]')]);
    expect((await dlq('show', 'first')).code).toBe(2);
    expect((await dlq('purge')).code).toBe(2);
    expect((await dlq('list', '--colour', 'red')).code).toBe(2);
  }, 60_000);
});

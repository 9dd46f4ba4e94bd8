// kill -9 of the notifier mid-delivery: its position had not moved past the outcome it
// was sending, so the next notifier sends it again, with the same delivery id and a
// valid signature: at least once, and deduplicable by the receiver.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveryProblem, WEBHOOK_HEADERS } from '../../../processors/notifier/index.js';
import { useBrokerAndWorker } from '../../support/broker-and-worker.js';
import { RoleProcess } from '../../support/role-process.js';
import { Receiver, type Received } from './receiver.js';

const SECRET = 'the-crash-test-webhook-secret-0123456789';
const h = useBrokerAndWorker('webhook-crash', 1);
const receiver = new Receiver();
const notifiers: RoleProcess[] = [];
let base = '';

beforeAll(async () => {
  base = await receiver.start();
});

afterAll(async () => {
  await Promise.all(notifiers.map((n) => n.kill()));
  await receiver.stop();
});

function startNotifier(): Promise<void> {
  const notifier = new RoleProcess(
    'notifier',
    {
      STACKL_TOPIC_PREFIX: h.config.topicPrefix,
      STACKL_PARTITIONS: String(h.config.partitions),
      STACKL_WEBHOOK_SECRET: SECRET,
      // Long enough that the stalled try is still open when the process dies.
      STACKL_WEBHOOK_TIMEOUT_MS: '120000',
    },
    /notifier ready/,
  );
  notifiers.push(notifier);
  return notifier.start();
}

const header = (request: Received, name: string) => String(request.headers[name]);

it('sends the outcome again, under the same delivery id, after the notifier is killed while sending it', async () => {
  receiver.script('/slow', ['stall', 200]);
  await startNotifier();
  const [receipt] = await h.client.submitMany([{ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, origin: { type: 'webhook', target: `${base}/slow` } }]);
  await receiver.waitFor('/slow', 1);
  expect(await notifiers[0]?.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });

  await startNotifier();
  const tries = await receiver.waitFor('/slow', 2, 90_000);
  expect(tries.map((t) => t.answer)).toEqual(['stall', 200]);
  expect(header(tries[1] as Received, WEBHOOK_HEADERS.deliveryId)).toBe(header(tries[0] as Received, WEBHOOK_HEADERS.deliveryId));
  for (const t of tries) {
    expect(deliveryProblem({ secret: SECRET, body: t.body, timestamp: header(t, WEBHOOK_HEADERS.timestamp), signature: header(t, WEBHOOK_HEADERS.signature) })).toBeNull();
    expect(JSON.parse(t.body)).toMatchObject({ taskId: receipt?.taskId, status: 'Completed' });
  }
  // Delivered and committed: the second notifier does not send it a third time.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(receiver.to('/slow')).toHaveLength(2);
}, 150_000);

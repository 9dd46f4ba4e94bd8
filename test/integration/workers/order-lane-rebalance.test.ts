// A worker whose every slot is busy must still let its group rebalance. Its lane waits
// for a free slot inside the batch; waiting without heartbeating, the member neither
// rejoins nor answers until its session expires, and the whole group (every worker) takes
// nothing meanwhile: the chaos run saw the workers' group stay in a rebalance for 47 s
// after a worker was killed. Here one lane holds its only slot for 40 s with more orders behind it; a second
// lane joining the group must get orders long before that slot frees or the first lane's
// 30 s session runs out.
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaOrderLane, type StartOrder } from '../../../channels/kafka-order-lane.js';
import { createTopic, testKafka } from '../../support/kafka.js';
import { token } from '../../support/names.js';

const kafka = testKafka();
const HOLD_MS = 40_000;
/** The workers' default session (STACKL_WORKER_SESSION_TIMEOUT_MS). */
const SESSION_MS = 30_000;
const lanes: KafkaOrderLane[] = [];
const holds: (() => void)[] = [];

afterEach(async () => {
  for (const release of holds.splice(0)) release();
  await Promise.all(lanes.splice(0).map((lane) => lane.close()));
});

interface Started {
  lane: string;
  partition: number;
  offset: string;
  at: number;
}

/** Starts an order by holding it for HOLD_MS (or until the test ends), noting when. */
function holdingStarter(lane: string, started: Started[]): StartOrder {
  return async (_topic, partition, message) => {
    started.push({ lane, partition, offset: message.offset, at: Date.now() });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HOLD_MS);
      holds.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  };
}

describe('kafka channel lane under a rebalance', () => {
  it('rejoins while every slot is busy, so a worker joining gets orders before the busy slot frees', async () => {
    const id = token();
    const topic = `lane.orders.${id}`;
    const groupId = `lane-group-${id}`;
    await createTopic(kafka, topic, 2);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [0, 0, 0, 1, 1, 1].map((partition, i) => ({ partition, key: `order-${i}`, value: `order-${i}` })) });
    await producer.disconnect();

    const started: Started[] = [];
    const options = { kafka, topic, groupId, partitions: 2, sessionTimeoutMs: SESSION_MS, label: 'test orders' };
    const busy = new KafkaOrderLane(options);
    lanes.push(busy);
    await busy.consume(holdingStarter('busy', started), 1);
    await waitUntil(() => started.some((s) => s.lane === 'busy'), 30_000, 'the first lane started an order');
    // Let its batch reach the wait for a second slot.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const joinedAt = Date.now();
    const joining = new KafkaOrderLane(options);
    lanes.push(joining);
    await joining.consume(holdingStarter('joining', started), 3);
    await waitUntil(() => started.some((s) => s.lane === 'joining'), HOLD_MS + 20_000, 'the joining lane started an order');

    const firstOfJoining = started.find((s) => s.lane === 'joining') as Started;
    const firstOfBusy = started.find((s) => s.lane === 'busy') as Started;
    // Well before the busy lane's slot frees, and before its session could expire: a lane
    // that stops heartbeating while it waits is evicted only after SESSION_MS (the joining
    // lane then waited ~30 s; ~10 s with a 10 s session).
    expect(firstOfJoining.at - joinedAt).toBeLessThan(15_000);
    expect(firstOfJoining.at).toBeLessThan(firstOfBusy.at + HOLD_MS);
  }, 120_000);
});

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// A chunk that takes longer than the group session must not lose the session: the
// runtime heartbeats while a chunk waits, runs and commits, and lets the event loop turn
// every few dozen records so those heartbeats can go out. Without that, 300 records of
// 40 ms each (12 s, as a busy machine makes a big chunk) expired a 6 s session and the
// group rebalanced in the middle of the work.
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamApp } from '../../../processors/runtime/stream-app.js';
import type { StreamProcessor } from '../../../processors/runtime/types.js';
import { consumeCount, createTopic, testKafka } from '../../support/kafka.js';
import { token } from '../../support/names.js';
import { countingApp, counterProcessor, type Count } from './counter-app.js';

const kafka = testKafka();
const running: StreamApp<Count>[] = [];
const RECORDS = 300;
const SPIN_MS = 40;
/** The broker's smallest group.min.session.timeout.ms by default. */
const SESSION_MS = 6_000;

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()));
});

/** Holds the thread as CPU-bound work does: no await, no timer can fire meanwhile. */
function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy on purpose
  }
}

describe('stream runtime under long chunks', () => {
  it(`keeps its ${SESSION_MS / 1000} s group session through one chunk of ${RECORDS} records taking ${(RECORDS * SPIN_MS) / 1000} s: one join, every record once`, async () => {
    const id = token();
    const topics = { input: `rt.in.${id}`, output: `rt.out.${id}`, changelog: `rt.changelog.${id}`, dlq: `rt.dlq.${id}` };
    await createTopic(kafka, topics.input, 1);
    await createTopic(kafka, topics.output, 1);
    await createTopic(kafka, topics.changelog, 1, { 'cleanup.policy': 'compact' });
    await createTopic(kafka, topics.dlq, 1);
    const counting = counterProcessor(topics, 3_600_000);
    const slow: StreamProcessor<Count> = {
      ...counting,
      onRecord(ctx, record) {
        spin(SPIN_MS);
        return counting.onRecord(ctx, record);
      },
    };
    // Every record is in place before the app starts, so its first fetch is one chunk.
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: topics.input, acks: -1, messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i % 10}`, value: `v${i}` })) });
    await producer.disconnect();

    const app = countingApp(kafka, topics, 1, `rt-group-${id}`, slow, { sessionTimeoutMs: SESSION_MS });
    running.push(app);
    await app.start();
    await app.ready();
    const outputs = await consumeCount(kafka, topics.output, RECORDS, { timeoutMs: 90_000 });
    // A moment for a late rebalance to show, had the session been lost at the end.
    await new Promise((resolve) => setTimeout(resolve, SESSION_MS));

    expect(outputs.map((o) => o.message.value?.toString()).sort()).toEqual(Array.from({ length: RECORDS }, (_, i) => `v${i}:${Math.floor(i / 10) + 1}`).sort());
    expect(app.stats()).toMatchObject({ groupJoins: 1, records: RECORDS });
  }, 150_000);
});

// A partition that is rebuilding must not hold up the others of its instance. kafkajs
// fetches again only once every batch of the last fetch is done, so a batch that waited
// for its partition's restore stalled every partition the instance owns (the chaos run
// at 55 tasks/s saw brokers fall minutes behind this way). Here one partition is fenced
// and its restore made slow; records of another partition must go through meanwhile.
import type { Consumer, ConsumerConfig } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StreamApp } from '../../../processors/runtime/stream-app.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { consumeCount, createTopic, testKafka } from '../../support/kafka.js';
import { token } from '../../support/names.js';
import { counterApp, type Count } from './counter-app.js';

const kafka = testKafka();
const PARTITIONS = 3;
const SLOW_RESTORE_MS = 15_000;
const running: StreamApp<Count>[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(running.splice(0).map((app) => app.stop()));
});

function keyOn(partition: number): string {
  for (let i = 0; ; i += 1) if (partitionForKey(`key-${i}`, PARTITIONS) === partition) return `key-${i}`;
}

async function produce(topic: string, key: string, value: string): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ key, value }] });
  await producer.disconnect();
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a partition rebuilding its state', () => {
  it(`does not stop the other partitions of its instance while its restore takes ${SLOW_RESTORE_MS / 1000} s`, async () => {
    const id = token();
    const topics = { input: `sa.in.${id}`, output: `sa.out.${id}`, changelog: `sa.changelog.${id}`, dlq: `sa.dlq.${id}` };
    await createTopic(kafka, topics.input, PARTITIONS);
    await createTopic(kafka, topics.output, PARTITIONS);
    await createTopic(kafka, topics.changelog, PARTITIONS, { 'cleanup.policy': 'compact' });
    await createTopic(kafka, topics.dlq, 1);
    const groupId = `sa-group-${id}`;
    const app = counterApp(kafka, topics, PARTITIONS, groupId);
    running.push(app);
    await app.start();
    await app.ready();
    const [slowKey, busyKey] = [keyOn(0), keyOn(1)];
    await produce(topics.input, busyKey, 'warm-up');
    await waitUntil(() => app.get(busyKey)?.count === 1, 20_000);

    // From now on every restore waits SLOW_RESTORE_MS before it connects.
    const consumer = kafka.consumer.bind(kafka);
    let slowRestores = 0;
    vi.spyOn(kafka, 'consumer').mockImplementation((config: ConsumerConfig): Consumer => {
      const made = consumer(config);
      if (config.groupId.includes('-restore-')) {
        slowRestores += 1;
        const connect = made.connect.bind(made);
        made.connect = async () => {
          await new Promise((resolve) => setTimeout(resolve, SLOW_RESTORE_MS));
          await connect();
        };
      }
      return made;
    });
    // A zombie takes partition 0's transactional id: the app's next commit there is fenced
    // and the partition rebuilds from the log.
    const zombie = kafka.producer({ transactionalId: `${groupId}-0`, idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    await (await zombie.transaction()).abort();
    await zombie.disconnect();
    await produce(topics.input, slowKey, 'fenced');
    await waitUntil(() => slowRestores > 0, 20_000);

    const sent = Date.now();
    await produce(topics.input, busyKey, 'meanwhile');
    await waitUntil(() => app.get(busyKey)?.count === 2, SLOW_RESTORE_MS);
    const tookMs = Date.now() - sent;
    expect(tookMs).toBeLessThan(SLOW_RESTORE_MS / 2);
    expect(app.get(slowKey)).toBeUndefined();

    // The fenced partition comes back and processes its record, once.
    await waitUntil(() => app.get(slowKey)?.count === 1, 3 * SLOW_RESTORE_MS);
    const outputs = (await consumeCount(kafka, topics.output, 3, { timeoutMs: 20_000 })).map((r) => r.message.value?.toString());
    expect(outputs.sort()).toEqual(['fenced:1', 'meanwhile:2', 'warm-up:1']);
  });
});

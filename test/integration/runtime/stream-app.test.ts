// The stream runtime's guarantees, each on the real broker (DESIGN.md §6).
import { afterEach, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import type { StreamApp } from '../../../processors/runtime/stream-app.js';
import { consumeCount, createTopic, testKafka } from '../../support/kafka.js';
import { token } from '../../support/names.js';
import { counterApp, type Count, type CounterTopics } from './counter-app.js';
import { loseOneCommitAnswer } from './lost-answers.js';

const kafka = testKafka();
const PARTITIONS = 3;
const running: StreamApp<Count>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()));
});

async function setup(partitions = PARTITIONS): Promise<{ topics: CounterTopics; groupId: string }> {
  const id = token();
  const topics = { input: `rt.in.${id}`, output: `rt.out.${id}`, changelog: `rt.changelog.${id}`, dlq: `rt.dlq.${id}` };
  await createTopic(kafka, topics.input, partitions);
  await createTopic(kafka, topics.output, partitions);
  await createTopic(kafka, topics.changelog, partitions, { 'cleanup.policy': 'compact' });
  await createTopic(kafka, topics.dlq, 1);
  return { topics, groupId: `rt-group-${id}` };
}

async function started(app: StreamApp<Count>): Promise<StreamApp<Count>> {
  running.push(app);
  await app.start();
  await app.ready();
  return app;
}

async function produce(topic: string, messages: { key: string; value: string }[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

const values = (records: { message: { value: Buffer | null } }[]) => records.map((r) => r.message.value?.toString() ?? '');

describe('stream runtime', () => {
  it('rebuilds a partition from the log when a commit reached the broker but its answer was lost, writing nothing twice', async () => {
    const { topics, groupId } = await setup();
    await started(counterApp(kafka, topics, PARTITIONS, groupId));
    // The next commit that carries outputs succeeds on the broker, then reports a broken
    // connection, as during a Kafka restart: its outcome is unknown to the runtime.
    const answer = loseOneCommitAnswer(topics.output);
    try {
      await produce(topics.input, Array.from({ length: 12 }, (_, i) => ({ key: 'one', value: `v${i}` })));
      const out = await consumeCount(kafka, topics.output, 12);
      expect(answer.lost()).toBe(1);
      expect(values(out)).toEqual(Array.from({ length: 12 }, (_, i) => `v${i}:${i + 1}`));
      await produce(topics.input, [{ key: 'one', value: 'after' }]);
      const all = await consumeCount(kafka, topics.output, 13);
      expect(values(all).slice(-1)).toEqual(['after:13']);
    } finally {
      answer.restore();
    }
  });

  it('processes every record once, with state, and writes outputs transactionally', async () => {
    const { topics, groupId } = await setup();
    await started(counterApp(kafka, topics, PARTITIONS, groupId));
    await produce(topics.input, Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` })));
    const out = await consumeCount(kafka, topics.output, 30);
    const finalCounts = values(out).filter((v) => /^v\d+:6$/.test(v));
    expect(finalCounts).toHaveLength(5);
    expect(new Set(values(out)).size).toBe(30);
  });

  it('restores state from the changelog when a new instance takes over', async () => {
    const { topics, groupId } = await setup();
    const first = await started(counterApp(kafka, topics, PARTITIONS, groupId));
    await produce(topics.input, ['a', 'b', 'c'].map((value) => ({ key: 'same', value })));
    await consumeCount(kafka, topics.output, 3);
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const second = await started(counterApp(kafka, topics, PARTITIONS, groupId));
    expect(second.get('same')?.count).toBe(3);
    await produce(topics.input, [{ key: 'same', value: 'd' }]);
    const out = await consumeCount(kafka, topics.output, 4);
    expect(values(out)).toEqual(['a:1', 'b:2', 'c:3', 'd:4']);
  });

  it('dead-letters poison and misplaced records with their origin, and keeps the partition moving', async () => {
    const { topics, groupId } = await setup();
    await started(counterApp(kafka, topics, PARTITIONS, groupId));
    const wrong = (partitionForKey('misplaced', PARTITIONS) + 1) % PARTITIONS;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.input, messages: [{ key: 'p', value: 'poison' }, { key: 'misplaced', value: 'x', partition: wrong }, { key: 'p', value: 'after' }] });
    await producer.disconnect();

    const dead = await consumeCount(kafka, topics.dlq, 2);
    const headers = dead.map((d) => Object.fromEntries(Object.entries(d.message.headers ?? {}).map(([k, v]) => [k, v?.toString()])));
    expect(headers.map((h) => h[DLQ_HEADERS.code]).sort()).toEqual(['POISON', 'WRONG_PARTITION']);
    for (const h of headers) {
      expect(h[DLQ_HEADERS.topic]).toBe(topics.input);
      expect(h[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
    }
    expect(values(await consumeCount(kafka, topics.output, 1))).toEqual(['after:1']);
  });

  it('fires timers inside transactions and survives a restart with pending timers', async () => {
    const { topics, groupId } = await setup();
    const first = await started(counterApp(kafka, topics, PARTITIONS, groupId, 1500));
    await produce(topics.input, [{ key: 't1', value: 'x' }]);
    await consumeCount(kafka, topics.output, 1);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    // The deadline passes while nobody owns the partition; the next owner fires it.
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const second = await started(counterApp(kafka, topics, PARTITIONS, groupId, 1500));
    const out = await consumeCount(kafka, topics.output, 2);
    expect(values(out)).toEqual(['x:1', 'expired:1']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(second.get('t1')).toBeUndefined();
  });

  it('shares partitions between two instances and hands them over on stop', async () => {
    const { topics, groupId } = await setup();
    const a = await started(counterApp(kafka, topics, PARTITIONS, groupId));
    const b = await started(counterApp(kafka, topics, PARTITIONS, groupId));
    await waitUntil(() => a.stats().ownedPartitions.length + b.stats().ownedPartitions.length === PARTITIONS && b.stats().ownedPartitions.length > 0);
    await produce(topics.input, Array.from({ length: 12 }, (_, i) => ({ key: `r${i % 6}`, value: `v${i}` })));
    await consumeCount(kafka, topics.output, 12);

    await b.stop();
    running.splice(running.indexOf(b), 1);
    await waitUntil(() => a.stats().ownedPartitions.length === PARTITIONS);
    await a.ready();
    for (let k = 0; k < 6; k++) expect(a.get(`r${k}`)?.count).toBe(2);
  });

  it('keeps partitions where they are when an instance joins: a third of six moves two, each serving member keeps the rest', async () => {
    const partitions = 6;
    const { topics, groupId } = await setup(partitions);
    const a = await started(counterApp(kafka, topics, partitions, groupId));
    const b = await started(counterApp(kafka, topics, partitions, groupId));
    await waitUntil(() => a.stats().ownedPartitions.length === 3 && b.stats().ownedPartitions.length === 3);
    const before = { a: a.stats().ownedPartitions, b: b.stats().ownedPartitions };

    const c = await started(counterApp(kafka, topics, partitions, groupId));
    await waitUntil(() => [a, b, c].every((app) => app.stats().ownedPartitions.length === 2));
    expect(before.a).toEqual(expect.arrayContaining(a.stats().ownedPartitions));
    expect(before.b).toEqual(expect.arrayContaining(b.stats().ownedPartitions));
    expect([...a.stats().ownedPartitions, ...b.stats().ownedPartitions, ...c.stats().ownedPartitions].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

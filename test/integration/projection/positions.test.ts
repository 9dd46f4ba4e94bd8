// Positions on the real Kafka and PostgreSQL: the projector starts where PostgreSQL
// says, a redelivered log changes nothing, lag counts what waits, aborted transactions
// and transaction markers are passed over, and a record that cannot be decoded is
// dead-lettered without stopping its partition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { projectionLag, PROJECTOR_NAME, startProjector, type RunningProjector } from '../../../processors/projection/index.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { consumeCount, testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, uniqueSchema } from '../../support/postgres.js';
import { ProjectionDb } from './db.js';
import { EventWriter, spec, TaskLife } from './event-writer.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('projpos'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: uniqueSchema('projpos') });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const admin = kafka.admin();
const writer = new EventWriter(kafka, topics.events, config.partitions);
const db = new ProjectionDb(config.databaseSchema);
const key = { schema: config.databaseSchema, topic: topics.events, projector: PROJECTOR_NAME };
let projector: RunningProjector | undefined;

beforeAll(async () => {
  projector = await startProjector(config, { clientId: 'projpos-test' });
  await Promise.all([writer.connect(), admin.connect()]);
});
afterAll(async () => {
  await projector?.stop();
  await Promise.all([writer.disconnect(), admin.disconnect()]);
  await db.close();
  await dropSchema(config.databaseSchema);
});

const lag = () => projectionLag(admin, db.pool, key);
async function caughtUp(timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await lag()).total > 0) {
    if (Date.now() > until) throw new Error(`projection still behind: ${JSON.stringify(await lag())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
function lives(count: number) {
  return Array.from({ length: count }, () => {
    const life = new TaskLife();
    return [
      life.next('TaskSubmitted', { task: spec(life.taskId), deadlineAt: 1_750_000_060_000 }),
      life.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 }),
      life.next('AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }),
      life.next('AttemptSucceeded', { attempt: 1, output: '{"ok":true}' }),
      life.next('TaskCompleted', { output: '{"ok":true}' }),
    ];
  });
}

describe('projector positions', () => {
  it('reports lag 0 once caught up (past transaction markers), and what waits while it is stopped', async () => {
    // Split over transactions so later events move rows an earlier batch created.
    const [early, late] = [lives(40), lives(40)];
    await writer.write(early.flatMap((l) => l.slice(0, 3)));
    await writer.write([...early.flatMap((l) => l.slice(3)), ...late.flatMap((l) => l)]);
    await caughtUp();
    expect(await db.count('task_events')).toBe(400);
    expect((await db.query('select status, count(*)::int as n from $schema.tasks group by status'))).toEqual([{ status: 'Completed', n: 80 }]);

    await projector?.stop();
    projector = undefined;
    const waiting = lives(3).flat();
    const written = await writer.write(waiting);
    // Each partition written to waits for its events plus the transaction's commit marker.
    const perPartition = new Map<number, number>();
    for (const w of written) perPartition.set(w.partition, (perPartition.get(w.partition) ?? 0) + 1);
    const report = await lag();
    for (const p of report.partitions) expect(p.lag, `partition ${p.partition}`).toBe(perPartition.has(p.partition) ? (perPartition.get(p.partition) ?? 0) + 1 : 0);
    expect(report.total).toBe(waiting.length + perPartition.size);

    projector = await startProjector(config, { clientId: 'projpos-test' });
    await caughtUp();
    expect(await db.count('task_events')).toBe(415);
    expect((await projector.lag()).total).toBe(0);
  });

  it('changes nothing when the whole log is delivered again from offset 0', async () => {
    const [tasks, events] = [await db.snapshot('tasks'), await db.snapshot('task_events')];
    await projector?.stop();
    await db.query('update $schema.projection_offsets set next_offset = 0');
    projector = await startProjector(config, { clientId: 'projpos-test' });
    await caughtUp();
    const stats = projector.stats();
    expect(stats).toMatchObject({ events: 0, duplicates: 415 });
    expect(stats.staleForRow).toBeGreaterThan(0);
    expect(await db.snapshot('tasks')).toEqual(tasks);
    expect(await db.snapshot('task_events')).toEqual(events);
  });

  it('never projects an aborted transaction, and still reaches the end of the log behind it', async () => {
    const aborted = lives(5).flat();
    await writer.write(aborted, { abort: true });
    await caughtUp();
    const ids = [...new Set(aborted.map((e) => e.taskId))];
    expect(await db.query('select count(*)::int as n from $schema.task_events where task_id = any($1::uuid[])', [ids])).toEqual([{ n: 0 }]);
    expect(await db.query('select count(*)::int as n from $schema.tasks where id = any($1::uuid[])', [ids])).toEqual([{ n: 0 }]);
  });

  it('dead-letters a record that does not decode, with its origin, and keeps the partition moving', async () => {
    const life = new TaskLife();
    const partition = await writer.writeRaw(life.taskId, Buffer.from([0xc3, 0x01, 9, 9, 9]));
    await writer.write([life.next('TaskSubmitted', { task: spec(life.taskId), deadlineAt: 1_750_000_060_000 })]);
    await caughtUp();
    expect(await db.task(life.taskId)).toMatchObject({ status: 'Available' });
    const [dead] = await consumeCount(kafka, topics.dlq, 1);
    const headers = Object.fromEntries(Object.entries(dead?.message.headers ?? {}).map(([k, v]) => [k, v?.toString()]));
    expect(headers).toMatchObject({ [DLQ_HEADERS.topic]: topics.events, [DLQ_HEADERS.partition]: String(partition) });
    expect(headers[DLQ_HEADERS.code]).toMatch(/^DECODE_/);
    expect(projector?.stats().deadLettered).toBe(1);
  });

  it('shares the partitions between two projectors; when one stops, the other goes on from PostgreSQL\'s offsets', async () => {
    const second = await startProjector(config, { clientId: 'projpos-second' });
    try {
      const until = Date.now() + 20_000;
      while ((projector?.stats().ownedPartitions.length ?? 0) + second.stats().ownedPartitions.length !== config.partitions || second.stats().ownedPartitions.length === 0) {
        if (Date.now() > until) throw new Error('the group did not split the partitions');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const before = await db.count('task_events');
      const [firstEvents, secondEvents, duplicates] = [projector?.stats().events ?? 0, second.stats().events, projector?.stats().duplicates ?? 0];
      await writer.write(lives(30).flat());
      await caughtUp();
      expect((projector?.stats().events ?? 0) - firstEvents + second.stats().events - secondEvents).toBe(150);
      expect(second.stats().events - secondEvents).toBeGreaterThan(0);
      await second.stop();
      await writer.write(lives(30).flat());
      await caughtUp();
      expect(await db.count('task_events')).toBe(before + 300);
      // A batch both owners fetched around the hand-over is skipped by the second, never re-applied.
      expect(second.stats().duplicates + (projector?.stats().duplicates ?? 0) - duplicates).toBe(0);
    } finally {
      await second.stop().catch(() => {});
    }
  });
});

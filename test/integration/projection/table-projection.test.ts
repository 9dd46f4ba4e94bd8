// The projector of a custom-broker deployment (STACKL_BROKER=custom) on the real
// PostgreSQL, no Kafka: events are appended to broker_events as that broker appends them
// (Avro bytes, offsets 0, 1, 2, … per partition of the task id's murmur2 partition), and
// the projection must come out as the Kafka projector writes it (event-mapping.test.ts),
// resume from its stored offsets, keep an undecodable row as a dead letter, and count lag.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { headersFromJson } from '../../../processors/projection/dead-letter-rows.js';
import { DEAD_LETTER_SOURCE_HEADER, PROJECTOR_NAME, startProjector, type RunningProjector } from '../../../processors/projection/index.js';
import { encode, taskEventSchema, type TaskEventMessage } from '../../../schemas/index.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { recorded, until } from './dead-letter-checks.js';
import { ProjectionDb } from './db.js';
import { spec, TaskLife } from './event-writer.js';

// KAFKA_BROKERS points where nothing listens: the projector must never reach for Kafka.
const config = loadConfig({
  ...process.env, KAFKA_BROKERS: '127.0.0.1:1', STACKL_DB_SCHEMA: uniqueSchema('projtable'), STACKL_BROKER: 'custom', STACKL_CHANNEL: 'rabbitmq', STACKL_PARTITIONS: '3',
});
const topics = topicNames(config.topicPrefix);
const db = new ProjectionDb(config.databaseSchema);
/** Per partition, the next offset to append at (what the broker keeps in broker_partitions). */
const ends = new Map<number, number>();
let projector: RunningProjector | undefined;

/** Appends rows in one statement, each at the next offset of its task's partition; says where each landed. */
async function append(rows: { taskId: string; value: Buffer }[]): Promise<{ partition: number; offset: number }[]> {
  const placed = rows.map(({ taskId }) => {
    const partition = partitionForKey(taskId, config.partitions);
    const offset = ends.get(partition) ?? 0;
    ends.set(partition, offset + 1);
    return { partition, offset };
  });
  await db.query(`insert into $schema.broker_events (partition, "offset", task_id, value) select * from unnest($1::int[], $2::bigint[], $3::text[], $4::bytea[])`, [
    placed.map((p) => p.partition), placed.map((p) => p.offset), rows.map((r) => r.taskId), rows.map((r) => r.value),
  ]);
  return placed;
}
const appendEvents = (events: TaskEventMessage[]) => append(events.map((event) => ({ taskId: event.taskId, value: encode(taskEventSchema, event) })));

/** Until every partition is projected through what was appended. */
async function caughtUp(): Promise<void> {
  for (const [partition, end] of ends) expect(await projector?.waitFor(partition, end, 20_000), `partition ${partition}`).toBe(true);
}

/** A task id on `partition`. */
function idOn(partition: number): string {
  for (;;) {
    const id = uuidV7();
    if (partitionForKey(id, config.partitions) === partition) return id;
  }
}

const start = async () => (projector = await startProjector(config));

beforeAll(async () => {
  await migrate(config.databaseUrl, config.databaseSchema);
});
afterAll(async () => {
  await projector?.stop();
  await db.close();
  await dropSchema(config.databaseSchema);
});

describe('projector on the custom broker (broker_events, no Kafka)', () => {
  const life = new TaskLife();
  const id = life.taskId;
  const submitted = life.next('TaskSubmitted', { task: spec(id, { payload: '{"outcome":"fail","n":12345678901234567890}' }), deadlineAt: 1_750_000_060_000 });
  const retried = life.next('AttemptFailed', { attempt: 1, reason: 'error', message: 'disk full', retryAt: 1_750_000_020_000 });
  const story = [
    submitted,
    life.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 }),
    life.next('AttemptStarted', { attempt: 1, workerId: 'w-1', heartbeatDeadlineAt: null }),
    retried,
    life.next('AttemptDispatched', { attempt: 2, deadlineAt: 1_750_000_040_000 }),
    life.next('AttemptStarted', { attempt: 2, workerId: 'w-2', heartbeatDeadlineAt: null }),
    life.next('TaskCompleted', { output: '{"doc":1}' }),
  ];
  const rejected = new TaskLife();
  // 150 tasks of 4 events on each partition: two batches of up to 500 rows each.
  const others = Array.from({ length: 450 }, (_, i) => new TaskLife(idOn(i % 3)));
  let total = 0;

  it('projects a backlog of more than a batch per partition into the rows the Kafka projector writes', async () => {
    const backlog = [
      ...story,
      rejected.next('TaskRejected', { code: 'UNKNOWN_KIND', message: 'no kind "teleport"' }),
      ...others.flatMap((o) => [
        o.next('TaskSubmitted', { task: spec(o.taskId), deadlineAt: 1_750_000_060_000 }),
        o.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 }),
        o.next('AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }),
        o.next('TaskCompleted', { output: '{"ok":true}' }),
      ]),
    ];
    const placed = await appendEvents(backlog);
    total = backlog.length;
    await start();
    await caughtUp();

    const last = placed[story.length - 1];
    expect(await db.task(id)).toMatchObject({
      status: 'Completed', kind: 'probe', action: 'run', payload: expect.objectContaining({ outcome: 'fail' }), origin_type: 'topic', origin_target: 'replies', idempotency_key: id,
      max_attempts: 2, attempts: 2, worker_id: 'w-2', attempt_error: 'disk full', retry_at: null, output: { doc: 1 }, deadline_ms: 1_750_000_060_000, created_ms: submitted.time,
      updated_ms: story.at(-1)?.time, last_sequence: String(story.length), last_partition: last?.partition, last_offset: String(last?.offset),
    });
    expect(await db.query('select payload::text as p from $schema.tasks where id = $1', [id])).toEqual([{ p: '{"n": 12345678901234567890, "outcome": "fail"}' }]);
    const history = await db.events(id);
    expect(history.map((e) => e.type)).toEqual(story.map((e) => e.type));
    expect(history.map((e) => [Number(e.sequence), e.offset])).toEqual(story.map((e, i) => [e.sequence, String(placed[i]?.offset)]));
    expect(history[3]).toMatchObject({ event_id: retried.eventId, attempt: 1, body: { attempt: 1, message: 'disk full', retryAt: 1_750_000_020_000 }, correlation_id: `c-${id}` });
    expect(await db.task(rejected.taskId)).toMatchObject({ status: 'Rejected', rejection_code: 'UNKNOWN_KIND', kind: null, payload: null, attempts: 0 });
    expect(await db.query(`select count(*)::int as n from $schema.tasks where status = 'Completed'`)).toEqual([{ n: others.length + 1 }]);
    expect(await db.count('task_events')).toBe(total);
    expect(projector?.stats()).toMatchObject({ events: total, duplicates: 0, belowStoredOffset: 0, deadLettered: 0, ownedPartitions: [0, 1, 2] });
  });

  it('resumes after a restart from the stored offsets, writing no history row twice', async () => {
    const before = await db.snapshot('task_events');
    await projector?.stop();
    const more = [life.next('TaskExpunged', {}), ...others.slice(0, 50).map((o) => o.next('TaskExpunged', {}))];
    await appendEvents(more);
    await start();
    await caughtUp();

    expect(projector?.stats()).toMatchObject({ events: more.length, duplicates: 0, belowStoredOffset: 0 });
    total += more.length;
    const after = await db.snapshot('task_events');
    expect(after).toHaveLength(total);
    expect(after.filter((row) => before.some((b) => b.partition === row.partition && b.offset === row.offset))).toEqual(before);
    expect(await db.query('select count(distinct event_id)::int as n from $schema.task_events')).toEqual([{ n: total }]);
    expect((await db.events(id)).map((e) => e.type)).toEqual([...story.map((e) => e.type), 'TaskExpunged']);
  });

  it('records an undecodable row as a dead letter (not sent: no Kafka) and moves on', async () => {
    const broken = new TaskLife();
    const garbage = Buffer.from([0xc3, 0x01, 7, 7, 7]);
    const [raw] = await append([{ taskId: broken.taskId, value: garbage }]);
    await appendEvents([broken.next('TaskSubmitted', { task: spec(broken.taskId), deadlineAt: 1_750_000_060_000 }), broken.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 })]);
    await caughtUp();

    expect(await db.task(broken.taskId)).toMatchObject({ status: 'Available', attempts: 1, last_offset: String((raw?.offset ?? 0) + 2) });
    expect(await recorded(db)).toEqual([{ partition: raw?.partition, offset: raw?.offset, publish: false, published: false, error_code: expect.stringMatching(/^DECODE_/) }]);
    const [row] = await db.query<{ key: Buffer; value: Buffer; headers: unknown; dlq_topic: string }>('select key, value, headers, dlq_topic from $schema.projection_dead_letters');
    expect(row?.value).toEqual(garbage);
    expect(row?.key?.toString()).toBe(broken.taskId);
    expect(row?.dlq_topic).toBe(topics.dlq);
    const headers = Object.fromEntries(Object.entries(headersFromJson(row?.headers)).map(([k, v]) => [k, v?.toString()]));
    expect(headers).toMatchObject({
      [DLQ_HEADERS.topic]: topics.events, [DLQ_HEADERS.partition]: String(raw?.partition), [DLQ_HEADERS.offset]: String(raw?.offset), [DLQ_HEADERS.app]: `${config.topicPrefix}projector`,
      [DEAD_LETTER_SOURCE_HEADER]: `${PROJECTOR_NAME}/${topics.events}/${raw?.partition}/${raw?.offset}`,
    });
    expect(projector?.stats()).toMatchObject({ deadLettered: 1, deadLettersPublished: 0 });

    // A restart reads on from the stored offset: the dead letter is not recorded again.
    await projector?.stop();
    await start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await recorded(db)).toHaveLength(1);
    expect(projector?.stats()).toMatchObject({ events: 0, deadLettered: 0 });
  });

  it('counts lag per partition from broker_events; a blocked partition holds no other back; lag reaches 0', async () => {
    // A second session holds partition 0's offset row, as a projector in the middle of a batch would.
    const blocker = new pg.Client({ connectionString: testDatabaseUrl() });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query(`select 1 from ${pg.escapeIdentifier(config.databaseSchema)}.projection_offsets where partition = 0 for update`);
      const blocked = Array.from({ length: 5 }, () => new TaskLife(idOn(0)));
      const free = new TaskLife(idOn(1));
      await appendEvents([...blocked.map((b) => b.next('TaskSubmitted', { task: spec(b.taskId), deadlineAt: 1_750_000_060_000 })), free.next('TaskSubmitted', { task: spec(free.taskId), deadlineAt: 1_750_000_060_000 })]);
      expect(await projector?.waitFor(1, ends.get(1) ?? 0, 20_000)).toBe(true);
      const lag = await projector?.lag();
      expect(lag?.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
      expect(lag?.partitions[0]).toEqual({ partition: 0, endOffset: ends.get(0), projectedThrough: (ends.get(0) ?? 0) - 5, lag: 5 });
      expect(lag?.total).toBe(5);
    } finally {
      await blocker.query('rollback');
      await blocker.end();
    }
    const total = async () => (await projector?.lag())?.total ?? -1;
    await until(async () => (await total()) === 0, 20_000, async () => JSON.stringify(await projector?.lag()));
    expect((await projector?.lag())?.partitions).toEqual([0, 1, 2].map((p) => ({ partition: p, endOffset: ends.get(p), projectedThrough: ends.get(p), lag: 0 })));
  });
});

// Dead letters exactly once with their batch, on the real Kafka and PostgreSQL: the batch
// that read an undecodable record fails to commit once (a deferred trigger refuses the
// first commit that writes task events, as a PostgreSQL restart would), kafkajs hands the
// batch again, and the dead-letter topic still gets the record once while every event is
// projected. A replay of the same log records the dead letter in its own schema and
// sends nothing; nor does a projector that later runs on that schema.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { DEAD_LETTER_SOURCE_HEADER, PROJECTOR_NAME, replayProjection, startProjector, type RunningProjector } from '../../../processors/projection/index.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { deadLetters, recorded, recordsIn, until } from './dead-letter-checks.js';
import { ProjectionDb } from './db.js';
import { EventWriter, spec, TaskLife } from './event-writer.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('projdlq'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: uniqueSchema('projdlq') });
const replaySchema = uniqueSchema('projdlq_replay');
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const admin = kafka.admin();
const writer = new EventWriter(kafka, topics.events, config.partitions);
const db = new ProjectionDb(config.databaseSchema);
const replayDb = new ProjectionDb(replaySchema);
const garbage = Buffer.from([0xc3, 0x01, 7, 7, 7]);
let projector: RunningProjector | undefined;

/** Makes the first commit that writes task_events fail; later ones pass (a sequence is not rolled back). */
async function failFirstCommit(schema: string): Promise<void> {
  const s = pg.escapeIdentifier(schema);
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query(`create sequence ${s}.commit_attempts`);
    await client.query(`create function ${s}.fail_first_commit() returns trigger language plpgsql as $$
      begin
        if nextval('${s}.commit_attempts') = 1 then raise exception 'injected: the first commit writing task events fails'; end if;
        return null;
      end $$`);
    // Deferred: it fires at COMMIT, after the batch wrote everything it writes.
    await client.query(`create constraint trigger fail_first_commit after insert on ${s}.task_events deferrable initially deferred
      for each row execute function ${s}.fail_first_commit()`);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await migrate(config.databaseUrl, config.databaseSchema);
  await failFirstCommit(config.databaseSchema);
  projector = await startProjector(config, { clientId: 'projdlq-test' });
  await Promise.all([writer.connect(), admin.connect()]);
});
afterAll(async () => {
  await projector?.stop();
  await Promise.all([writer.disconnect(), admin.disconnect()]);
  await Promise.all([db.close(), replayDb.close()]);
  await dropSchema(config.databaseSchema);
  await dropSchema(replaySchema);
});

const life = new TaskLife();
const events = [
  life.next('TaskSubmitted', { task: spec(life.taskId), deadlineAt: 1_750_000_060_000 }),
  life.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 }),
  life.next('AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }),
  life.next('TaskCompleted', { output: '{"ok":true}' }),
];
let origin: { partition: number; rawOffset: number } | undefined;

describe('projector dead letters', () => {
  it('sends a dead letter once when its batch failed to commit and was handed again, and projects every event', async () => {
    origin = await writer.writeRawThen(life.taskId, garbage, events);
    const lag = async () => (await projector?.lag())?.total ?? -1;
    await until(async () => (await lag()) === 0 && (await recordsIn(admin, topics.dlq)) >= 1, 30_000, async () => `lag ${await lag()}, ${await recordsIn(admin, topics.dlq)} dead letters`);
    // Give a second (wrong) send the time to land before counting.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    expect(await recordsIn(admin, topics.dlq)).toBe(1);
    const [dead] = await deadLetters(kafka, topics.dlq, 1);
    expect(dead?.value).toEqual(garbage);
    expect(dead?.headers).toMatchObject({
      [DLQ_HEADERS.topic]: topics.events,
      [DLQ_HEADERS.partition]: String(origin.partition),
      [DLQ_HEADERS.offset]: String(origin.rawOffset),
      [DLQ_HEADERS.app]: `${config.topicPrefix}projector`,
      [DEAD_LETTER_SOURCE_HEADER]: `${PROJECTOR_NAME}/${topics.events}/${origin.partition}/${origin.rawOffset}`,
    });
    expect(dead?.headers[DLQ_HEADERS.code]).toMatch(/^DECODE_/);

    // The injected failure happened: the first commit was refused, a later one went through.
    const [attempts] = await db.query<{ n: string }>('select last_value as n from $schema.commit_attempts');
    expect(Number(attempts?.n)).toBeGreaterThanOrEqual(1 + events.length);
    expect(await db.task(life.taskId)).toMatchObject({ status: 'Completed', last_offset: String(origin.rawOffset + events.length) });
    expect((await db.events(life.taskId)).map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(await recorded(db)).toEqual([{ partition: origin.partition, offset: origin.rawOffset, publish: true, published: true, error_code: dead?.headers[DLQ_HEADERS.code] }]);
    expect(projector?.stats()).toMatchObject({ deadLettered: 1, deadLettersPublished: 1 });
  });

  it('a replay into a fresh schema records the dead letter there and sends nothing; nor does a projector taking over that schema', async () => {
    const replay = await replayProjection({ config, schema: replaySchema });
    expect(replay.events).toBe(events.length);
    expect(await recordsIn(admin, topics.dlq)).toBe(1);
    expect(await recorded(replayDb)).toEqual([{ partition: origin?.partition, offset: origin?.rawOffset, publish: false, published: false, error_code: expect.stringMatching(/^DECODE_/) }]);

    // The replay's schema becomes the live one: its projector must not send the replay's copy.
    await projector?.stop();
    projector = await startProjector({ ...config, databaseSchema: replaySchema }, { clientId: 'projdlq-takeover', deadLetterPublishing: { sweepMs: 100 } });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(projector.stats().deadLettersPublished).toBe(0);
    expect(await recordsIn(admin, topics.dlq)).toBe(1);
    expect(await recorded(replayDb)).toMatchObject([{ publish: false, published: false }]);
  });
});

// A projector process killed (-9) after the batch that read an undecodable record
// committed and before the dead letter was sent: nothing reached the dead-letter topic,
// yet PostgreSQL holds the dead letter with the batch. The restarted projector sends it,
// once, and marks it published; it records nothing again, as the batch is behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { DEAD_LETTER_SOURCE_HEADER, PROJECTOR_NAME } from '../../../processors/projection/index.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, uniqueSchema } from '../../support/postgres.js';
import { deadLetters, recorded, recordsIn, until } from './dead-letter-checks.js';
import { ProjectionDb } from './db.js';
import { EventWriter, spec, TaskLife } from './event-writer.js';
import { ProjectorChild } from './projector-child.js';

const env = { STACKL_TOPIC_PREFIX: uniquePrefix('projdlqcrash'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: uniqueSchema('projdlqcrash') };
const config = loadConfig({ ...process.env, ...env });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const admin = kafka.admin();
const writer = new EventWriter(kafka, topics.events, config.partitions);
const db = new ProjectionDb(config.databaseSchema);
const projector = new ProjectorChild(env);
const garbage = Buffer.from([0xc3, 0x01, 1, 2, 3]);

// The projector process creates the topics and the schema when it starts.
beforeAll(async () => {
  await Promise.all([admin.connect(), writer.connect()]);
});
afterAll(async () => {
  await projector.kill();
  await Promise.all([writer.disconnect(), admin.disconnect()]);
  await db.close();
  await dropSchema(config.databaseSchema);
});

describe('projector killed between committing a dead letter and sending it', () => {
  it('sends it exactly once after a restart', { timeout: 120_000 }, async () => {
    await projector.start(60_000, { PROJECTOR_TEST_HALT_BEFORE_DEAD_LETTER_SEND: '1' });
    const life = new TaskLife();
    const origin = await writer.writeRawThen(life.taskId, garbage, [life.next('TaskSubmitted', { task: spec(life.taskId), deadlineAt: 1_750_000_060_000 })]);
    await projector.waitForOutput(/halting before sending dead letters/);
    await projector.kill('SIGKILL');

    // Committed with its batch, sent nowhere.
    const position = { partition: origin.partition, offset: origin.rawOffset };
    expect(await recorded(db)).toEqual([{ ...position, publish: true, published: false, error_code: expect.stringMatching(/^DECODE_/) }]);
    expect(await db.task(life.taskId)).toMatchObject({ status: 'Available' });
    expect(await recordsIn(admin, topics.dlq)).toBe(0);

    await projector.start();
    await until(async () => (await recorded(db))[0]?.published === true, 30_000, async () => JSON.stringify(await recorded(db)));
    expect(await recordsIn(admin, topics.dlq)).toBe(1);
    const [dead] = await deadLetters(kafka, topics.dlq, 1);
    expect(dead?.value).toEqual(garbage);
    expect(dead?.headers).toMatchObject({
      [DLQ_HEADERS.offset]: String(origin.rawOffset),
      [DEAD_LETTER_SOURCE_HEADER]: `${PROJECTOR_NAME}/${topics.events}/${origin.partition}/${origin.rawOffset}`,
    });
    await until(async () => projector.stats?.deadLettersPublished === 1, 5000, async () => JSON.stringify(projector.stats));
    // The restarted projector began after the batch: it recorded nothing of its own.
    expect(projector.stats).toMatchObject({ deadLettered: 0, deadLettersPublished: 1, events: 0 });
    expect(await recordsIn(admin, topics.dlq)).toBe(1);
  });
});

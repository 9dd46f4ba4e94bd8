// kill -9 of a projector process in the middle of a run of 5,000 tasks through the real
// broker: after a restart the projection equals a replay of the log row for row, holds
// every event of the log exactly once, and the restarted projector re-applied nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { compareProjections, projectionLag, PROJECTOR_NAME, replayProjection } from '../../../processors/projection/index.js';
import { topicNames } from '../../../topics/names.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { ScriptedWorker } from '../../support/probe-worker.js';
import { ProjectionDb } from './db.js';
import { ProjectorChild } from './projector-child.js';

const env = { STACKL_TOPIC_PREFIX: uniquePrefix('projcrash'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: uniqueSchema('projcrash') };
const config = loadConfig({ ...process.env, ...env });
const replaySchema = uniqueSchema('projcrash_replay');
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const admin = kafka.admin();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const worker = new ScriptedWorker(kafka, topics);
const log = new EventLog(kafka, topics.events);
const db = new ProjectionDb(config.databaseSchema);
const projector = new ProjectorChild(env);
let broker: RunningLifecycleApp | undefined;

afterAll(async () => {
  await projector.kill();
  await Promise.all([worker.stop(), log.stop(), client.close(), admin.disconnect()]);
  await broker?.stop();
  await db.close();
  await dropSchema(config.databaseSchema);
  await dropSchema(replaySchema);
});

const TOTAL = 5000;
const submit = async (count: number) => {
  for (let i = 0; i < count; i += 250) await client.submitMany(Array.from({ length: Math.min(250, count - i) }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } })));
};
async function until(condition: () => Promise<boolean>, timeoutMs: number, what: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('projector crash', () => {
  it('after kill -9 and a restart, equals a replay of the log and applied no event twice', { timeout: 300_000 }, async () => {
    broker = await startLifecycleApp(config, { tickIntervalMs: 50 });
    await Promise.all([worker.start(), log.start(), admin.connect()]);
    await projector.start();

    await submit(TOTAL / 2);
    // Kill it while it is projecting: some of the run is in PostgreSQL, most is not yet.
    await until(async () => (await db.count('task_events')) >= 2000, 120_000, async () => `${await db.count('task_events')} events projected`);
    await projector.kill('SIGKILL');
    const committedAtKill = await db.count('task_events');
    await submit(TOTAL / 2);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await projector.start();

    const completed = async () => Number((await db.query<{ n: string }>(`select count(*) as n from $schema.tasks where status = 'Completed'`))[0]?.n);
    await until(async () => (await completed()) === TOTAL, 240_000, async () => `${await completed()} of ${TOTAL} tasks completed in the projection`);
    const key = { schema: config.databaseSchema, topic: topics.events, projector: PROJECTOR_NAME };
    await until(async () => (await projectionLag(admin, db.pool, key)).total === 0 && log.all.length === (await db.count('task_events')), 30_000, async () => JSON.stringify(await projectionLag(admin, db.pool, key)));

    expect(committedAtKill).toBeGreaterThanOrEqual(2000);
    expect(committedAtKill).toBeLessThan(log.all.length);
    // Every event of the log, once: ids are unique in the table and equal to the log's.
    const ids = await db.query<{ id: string }>('select event_id::text as id from $schema.task_events');
    expect(new Set(ids.map((r) => r.id))).toEqual(new Set(log.all.map((e) => e.eventId)));
    expect(ids).toHaveLength(log.all.length);
    // The restarted projector began exactly where the killed one committed: it applied
    // every event the killed one had not, and re-applied none.
    await until(async () => projector.stats?.events === log.all.length - committedAtKill, 5000, async () => `${JSON.stringify(projector.stats)} after ${committedAtKill} of ${log.all.length}`);
    expect(projector.stats).toMatchObject({ duplicates: 0, belowStoredOffset: 0, staleForRow: 0 });

    const replay = await replayProjection({ config, schema: replaySchema });
    expect(replay.events).toBe(log.all.length);
    expect(await compareProjections(testDatabaseUrl(), config.databaseSchema, replaySchema)).toEqual([]);
  });
});

// The projector writes every partition at once, each in a PostgreSQL transaction of its
// own; here its connections go through a proxy that slows them and drops them all while
// transactions are in flight. Each transaction in flight fails, the projector goes on by
// itself, and the projection ends with every task Completed and equal to a replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { compareProjections, replayProjection, startProjector, type RunningProjector } from '../../../processors/projection/index.js';
import { topicNames } from '../../../topics/names.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { probeScript, ScriptedWorker } from '../../support/probe-worker.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { ProjectionDb } from './db.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('pgdrop'), STACKL_PARTITIONS: '6', STACKL_DB_SCHEMA: uniqueSchema('pgdrop') });
const replaySchema = uniqueSchema('pgdrop_replay');
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const db = new ProjectionDb(config.databaseSchema);
const worker = new ScriptedWorker(kafka, topics, probeScript);
const direct = new URL(testDatabaseUrl());
const proxy = new TcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
const fatal: unknown[] = [];
let broker: RunningLifecycleApp;
let projector: RunningProjector;

beforeAll(async () => {
  await proxy.start();
  const through = new URL(direct.toString());
  through.port = String(proxy.port);
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  projector = await startProjector({ ...config, databaseUrl: through.toString() }, { clientId: 'pgdrop-test', onFatal: (error) => fatal.push(error) });
  await worker.start();
});
afterAll(async () => {
  await Promise.all([worker.stop(), client.close()]);
  await projector?.stop();
  await broker?.stop();
  await proxy.close();
  await db.close();
  await dropSchema(config.databaseSchema);
  await dropSchema(replaySchema);
});

const TASKS = 600;

describe('projector when PostgreSQL drops its connections mid-transaction', () => {
  it('keeps projecting, and every task ends Completed and equal to a replay of the log', { timeout: 180_000 }, async () => {
    // Every chunk through the proxy waits 20 ms, so a batch's eight statements take
    // longer than the 150 ms between drops: each drop meets transactions in flight.
    proxy.setDelay(20);
    let dropped = 0;
    for (let chunk = 0; chunk < 6; chunk++) {
      await client.submitMany(Array.from({ length: TASKS / 6 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } })));
      await new Promise((resolve) => setTimeout(resolve, 150));
      dropped += proxy.dropAll();
    }
    proxy.setDelay(0);
    expect(dropped).toBeGreaterThan(0);

    const until = Date.now() + 120_000;
    const completed = async () => (await db.query<{ n: number }>(`select count(*)::int as n from $schema.tasks where status = 'Completed'`))[0]?.n ?? 0;
    while ((await completed()) < TASKS || (await projector.lag()).total > 0) {
      if (Date.now() > until) throw new Error(`projection behind: ${await completed()} of ${TASKS} Completed, lag ${JSON.stringify(await projector.lag())}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(fatal).toEqual([]);
    expect(await completed()).toBe(TASKS);
    await replayProjection({ config, schema: replaySchema });
    expect(await compareProjections(testDatabaseUrl(), config.databaseSchema, replaySchema)).toEqual([]);
  });
});

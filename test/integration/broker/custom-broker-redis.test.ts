// The custom broker on the `redis` channel, with a private Redis killed -9 in the middle of
// a run (it keeps nothing on disk, so every order in it is gone): the orders stay in the
// broker's outbox until their workers acknowledge them and are sent again when Redis comes
// back, so every task still ends exactly once.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import type { RedisOutboxRelay } from '../../../channels/redis-outbox-relay.js';
import { InboxClient } from '../../../processors/broker/custom/inbox-client.js';
import { startCustomBroker, type RunningCustomBroker } from '../../../processors/broker/custom/start-custom-broker.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { PrivateRedis } from '../../support/redis-server.js';
import { TableEventLog } from '../../support/table-event-log.js';

const redis = new PrivateRedis();
const schema = uniqueSchema('custom_redis');
const env = () => ({ STACKL_TOPIC_PREFIX: uniquePrefix('custom-redis'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: schema, STACKL_BROKER: 'custom', STACKL_CHANNEL: 'redis', REDIS_URL: redis.url, STACKL_WORKER_LEASE_MS: '1000' });
const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
const log = new TableEventLog(pool, schema);
const client = new InboxClient({ pool, schema, partitions: 3 });
let broker: RunningCustomBroker;
let worker: Worker;
const relay = () => broker.relay as RedisOutboxRelay;

beforeAll(async () => {
  await redis.start();
  const settings = env();
  const config = loadConfig({ ...process.env, ...settings });
  await migrate(testDatabaseUrl(), schema);
  broker = await startCustomBroker(config, {}, settings);
  worker = await startWorker(config, { ...settings, STACKL_WORKER_CONCURRENCY: '8' });
  log.start();
}, 60_000);
afterAll(async () => {
  await log.stop();
  await worker?.stop();
  await broker?.stop();
  await pool.end();
  await redis.stop();
  await dropSchema(schema);
});

describe('custom broker on the redis channel', () => {
  it('loses no task and ends none twice when Redis restarts empty mid-run', { timeout: 120_000 }, async () => {
    const receipts = await client.submitMany(
      Array.from({ length: 150 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 100 }, attemptTimeoutMs: 6000, maxAttempts: 5, retryBackoff: { initialMs: 100, multiplier: 1, maxMs: 100 }, timeoutMs: 90_000 })),
    );
    const ids = receipts.map((r) => r.taskId);
    const completed = (id: string) => log.types(id).includes('TaskCompleted');
    await log.waitForAll(() => ids.filter(completed).length >= 20, 30_000, () => 'first tasks completed');
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await redis.start();
    await log.waitForAll(() => ids.every(completed), 90_000, () => `${ids.filter((id) => !completed(id)).length} not completed; relay ${JSON.stringify(relay().counters)}`);
    for (const id of ids) expect(log.types(id).filter((t) => t === 'TaskCompleted'), id).toHaveLength(1);
    expect(relay().counters.redisRestarts, 'the relay noticed the restart and sent the lost orders again').toBeGreaterThanOrEqual(1);
    // Every order is acknowledged in the end, copies sent again after the restart too: the
    // outbox empties (acknowledgements are drained every 200 ms, so it may take a moment).
    const waiting = async () => Number((await pool.query<{ waiting: string }>(`select count(*) as waiting from "${schema}".broker_outbox`)).rows[0]?.waiting);
    for (const until = Date.now() + 20_000; (await waiting()) > 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await waiting()).toBe(0);
  });
});

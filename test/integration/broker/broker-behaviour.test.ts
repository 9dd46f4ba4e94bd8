// The `custom` broker end to end on real PostgreSQL and RabbitMQ with a real worker: the
// Kafka broker's lifecycle, decided from PostgreSQL tables; its log read back from
// broker_events.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { InboxClient } from '../../../processors/broker/custom/inbox-client.js';
import { startCustomBroker, type RunningCustomBroker } from '../../../processors/broker/custom/start-custom-broker.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { rabbitUrl } from '../../support/rabbitmq-server.js';
import { TableEventLog } from '../../support/table-event-log.js';

const schema = uniqueSchema('custom_broker');
const env = { STACKL_TOPIC_PREFIX: uniquePrefix('custom-broker'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: schema, STACKL_CHANNEL: 'rabbitmq', RABBITMQ_URL: rabbitUrl(), DATABASE_URL: testDatabaseUrl() };
let config: StacklConfig;
const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
const log = new TableEventLog(pool, schema);
let client: InboxClient;
let broker: RunningCustomBroker;
let worker: Worker;

beforeAll(async () => {
  config = loadConfig({ ...process.env, ...env });
  await migrate(testDatabaseUrl(), schema);
  broker = await startCustomBroker(config, { defaults: { rollbackBackoff: { initialMs: 100, multiplier: 2, maxMs: 1000 } } }, env);
  worker = await startWorker(config, { ...env, STACKL_WORKER_CONCURRENCY: '4' });
  client = new InboxClient({ pool, schema, partitions: config.partitions });
  log.start();
}, 60_000);
afterAll(async () => {
  await log.stop();
  await worker?.stop();
  await broker?.stop();
  await client?.close();
  await pool.end();
  await dropSchema(schema);
});

const probe = (outcome: 'succeed' | 'fail' | 'hang', rollback: 'succeed' | 'fail' = 'succeed') => ({ kind: 'probe', action: 'run', payload: { outcome, rollback } });
const ends = (last: string) => (types: string[]) => types[types.length - 1] === last;

describe('custom broker lifecycle', () => {
  it('completes a task, its events numbered by the task sequence', async () => {
    const { taskId, position } = await client.submit(probe('succeed'));
    expect(position.topic).toBe('inbox');
    const history = await log.waitFor(taskId, ends('TaskCompleted'));
    expect(history.map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptSucceeded', 'TaskCompleted']);
    expect(history.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
  });

  it('fails on a negative result and ends with the rollback done', async () => {
    const { taskId } = await client.submit(probe('fail'));
    const types = (await log.waitFor(taskId, ends('RollbackSucceeded'))).map((e) => e.type);
    expect(types).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptFailed', 'TaskFailed', 'RollbackDispatched', 'RollbackSucceeded']);
  });

  it('times out a task whose worker never answers, then rolls it back', async () => {
    const { taskId } = await client.submit({ ...probe('hang'), timeoutMs: 1500 });
    const history = await log.waitFor(taskId, ends('RollbackSucceeded'));
    const failed = history.find((e) => e.type === 'TaskFailed');
    expect(failed?.body).toMatchObject({ reason: 'timeout' });
    expect((failed?.time ?? 0) - (history[0]?.time ?? 0)).toBeGreaterThanOrEqual(1500);
    expect((failed?.time ?? 0) - (history[0]?.time ?? 0)).toBeLessThan(5000);
  });

  it('cancels a running task and rolls it back', async () => {
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 5000 } });
    await log.waitFor(taskId, (types) => types.includes('AttemptStarted'));
    await client.cancel(taskId, { reason: 'test' });
    const types = (await log.waitFor(taskId, ends('RollbackSucceeded'))).map((e) => e.type);
    expect(types).toContain('TaskFailed');
  });

  it('answers a repeated submission with the same task and decides it once', async () => {
    const key = `once-${schema}`;
    const first = await client.submit({ ...probe('succeed'), idempotencyKey: key });
    const second = await client.submit({ ...probe('succeed'), idempotencyKey: key });
    expect(second.taskId).toBe(first.taskId);
    await log.waitFor(first.taskId, ends('TaskCompleted'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(log.types(first.taskId).filter((t) => t === 'TaskSubmitted')).toHaveLength(1);
  });

  it('rejects an unknown kind with its reason, and the partition goes on', async () => {
    const bad = await client.submit({ kind: 'no-such-kind', action: 'run', payload: {} });
    const good = await client.submit(probe('succeed'));
    expect((await log.waitFor(bad.taskId, ends('TaskRejected')))[0]?.body).toMatchObject({ code: 'UNKNOWN_KIND' });
    await log.waitFor(good.taskId, ends('TaskCompleted'));
  });

  it('runs a hundred tasks to one end each, and the log has no gap', { timeout: 60_000 }, async () => {
    const receipts = await client.submitMany(Array.from({ length: 100 }, (_, i) => probe(i % 4 === 0 ? 'fail' : 'succeed')));
    const ended = (id: string) => ['TaskCompleted', 'RollbackSucceeded'].includes(log.types(id).at(-1) ?? '');
    await log.waitForAll(() => receipts.every((r) => ended(r.taskId)), 45_000, () => `${receipts.filter((r) => !ended(r.taskId)).length} not ended`);
    for (const { taskId } of receipts) expect(log.types(taskId).filter((t) => t === 'TaskCompleted' || t === 'TaskFailed')).toHaveLength(1);
    const rows = await log.rows();
    for (const partition of [0, 1, 2]) {
      const offsets = rows.filter((r) => r.partition === partition).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)));
    }
  });
});

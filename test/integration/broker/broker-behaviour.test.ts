// One behavioural suite for both brokers (STACKL_BROKER=kafka and custom), end to end on
// real services with a real worker: the Kafka broker with its relay on the rabbitmq
// channel, its log read from task.events; the custom broker on PostgreSQL, on the rabbitmq
// and the redis channel, its log read from broker_events. The same submissions must end
// the same way on each.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import type { Relay } from '../../../channels/start-relay.js';
import { startRabbitRelay } from '../../../channels/start-relay.js';
import { InboxClient } from '../../../processors/broker/custom/inbox-client.js';
import { startCustomBroker } from '../../../processors/broker/custom/start-custom-broker.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import type { Receipt, SubmitRequest, TaskCommands } from '../../../processors/broker/task-broker.js';
import type { TaskEventMessage } from '../../../schemas/index.js';
import { topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { startNotifier } from '../../../processors/notifier/index.js';
import { deliveryProblem, WEBHOOK_HEADERS } from '../../../processors/notifier/signature.js';
import { EventLog } from '../../support/event-log.js';
import { Receiver } from '../notifier/receiver.js';
import { consumeCount, createTopic, testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { rabbitUrl } from '../../support/rabbitmq-server.js';
import { TableEventLog } from '../../support/table-event-log.js';

/** What the suite needs of a broker: commands in, a per-task history out. */
interface Harness {
  client: TaskCommands & { submitMany(requests: SubmitRequest[]): Promise<Receipt[]> };
  log: { all: TaskEventMessage[]; types(taskId: string): string[]; waitFor(taskId: string, predicate: (types: string[]) => boolean, timeoutMs?: number): Promise<TaskEventMessage[]>; waitForAll(predicate: () => boolean, timeoutMs: number, describe: () => string): Promise<void> };
  stop(): Promise<void>;
}

const defaults = { rollbackBackoff: { initialMs: 100, multiplier: 2, maxMs: 1000 } };

async function kafkaHarness(config: StacklConfig): Promise<Harness> {
  const kafka = testKafka();
  const topics = topicNames(config.topicPrefix);
  const broker = await startLifecycleApp(config, { tickIntervalMs: 20, defaults });
  const relay: Relay = await startRabbitRelay(config);
  const log = new EventLog(kafka, topics.events);
  await log.start();
  const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
  return { client, log, stop: async () => void (await Promise.all([log.stop(), client.close(), relay.stop()]), await broker.stop()) };
}

async function customHarness(config: StacklConfig, pool: pg.Pool, env: Record<string, string>): Promise<Harness> {
  const broker = await startCustomBroker(config, { defaults }, env);
  const log = new TableEventLog(pool, config.databaseSchema);
  log.start();
  const client = new InboxClient({ pool, schema: config.databaseSchema, partitions: config.partitions });
  return { client, log, stop: async () => void (await log.stop(), await broker.stop(), await client.close()) };
}

describe.each([
  ['kafka', 'rabbitmq'],
  ['custom', 'rabbitmq'],
  ['custom', 'redis'],
  ['custom', 'kafka'],
] as const)('the %s broker on the %s channel', (brokerName, channel) => {
  const schema = uniqueSchema(`behaviour_${brokerName}_${channel}`);
  const secret = 'a-webhook-secret-of-at-least-32-characters';
  const receiver = new Receiver();
  let base = '';
  let notifier: { stop(): Promise<void> };
  const env = { STACKL_WEBHOOK_SECRET: secret, STACKL_WEBHOOK_MAX_ATTEMPTS: '2', STACKL_WEBHOOK_INITIAL_BACKOFF_MS: '100', STACKL_WEBHOOK_MAX_BACKOFF_MS: '200', STACKL_WEBHOOK_TIMEOUT_MS: '1000', STACKL_TOPIC_PREFIX: uniquePrefix(`behaviour-${brokerName}-${channel}`), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: schema, STACKL_BROKER: brokerName, STACKL_CHANNEL: channel, RABBITMQ_URL: rabbitUrl(), DATABASE_URL: testDatabaseUrl() };
  const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
  let config: StacklConfig;
  let harness: Harness;
  let worker: Worker;

  beforeAll(async () => {
    config = loadConfig({ ...process.env, ...env });
    await migrate(testDatabaseUrl(), schema);
    harness = brokerName === 'kafka' ? await kafkaHarness(config) : await customHarness(config, pool, env);
    worker = await startWorker(config, { ...env, STACKL_WORKER_CONCURRENCY: '4' });
    notifier = await startNotifier(config, env);
    base = await receiver.start();
  }, 90_000);
  afterAll(async () => {
    await notifier?.stop();
    await receiver.stop();
    await worker?.stop();
    await harness?.stop();
    await pool.end();
    await dropSchema(schema);
  });

  const probe = (outcome: 'succeed' | 'fail' | 'hang', rollback: 'succeed' | 'fail' = 'succeed') => ({ kind: 'probe', action: 'run', payload: { outcome, rollback } });
  const ends = (last: string) => (types: string[]) => types[types.length - 1] === last;

  it('completes a task, its events numbered by the task sequence', async () => {
    const { taskId, position } = await harness.client.submit(probe('succeed'));
    expect(position.topic).toBe(brokerName === 'kafka' ? topicNames(config.topicPrefix).requests : 'inbox');
    const history = await harness.log.waitFor(taskId, ends('TaskCompleted'));
    expect(history.map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptSucceeded', 'TaskCompleted']);
    expect(history.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
  });

  it('fails on a negative result and ends with the rollback done', async () => {
    const { taskId } = await harness.client.submit(probe('fail'));
    const types = (await harness.log.waitFor(taskId, ends('RollbackSucceeded'))).map((e) => e.type);
    expect(types).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptFailed', 'TaskFailed', 'RollbackDispatched', 'RollbackSucceeded']);
  });

  it('times out a task whose worker never answers, then rolls it back', async () => {
    const { taskId } = await harness.client.submit({ ...probe('hang'), timeoutMs: 1500 });
    const history = await harness.log.waitFor(taskId, ends('RollbackSucceeded'));
    const failed = history.find((e) => e.type === 'TaskFailed');
    expect(failed?.body).toMatchObject({ reason: 'timeout' });
    expect((failed?.time ?? 0) - (history[0]?.time ?? 0)).toBeGreaterThanOrEqual(1500);
    expect((failed?.time ?? 0) - (history[0]?.time ?? 0)).toBeLessThan(5000);
  });

  it('cancels a running task and rolls it back', async () => {
    const { taskId } = await harness.client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 5000 } });
    await harness.log.waitFor(taskId, (types) => types.includes('AttemptStarted'));
    await harness.client.cancel(taskId, { reason: 'test' });
    const types = (await harness.log.waitFor(taskId, ends('RollbackSucceeded'))).map((e) => e.type);
    expect(types).toContain('TaskFailed');
  });

  it('answers a repeated submission with the same task and decides it once', async () => {
    const key = `once-${schema}`;
    const first = await harness.client.submit({ ...probe('succeed'), idempotencyKey: key });
    const second = await harness.client.submit({ ...probe('succeed'), idempotencyKey: key });
    expect(second.taskId).toBe(first.taskId);
    await harness.log.waitFor(first.taskId, ends('TaskCompleted'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(harness.log.types(first.taskId).filter((t) => t === 'TaskSubmitted')).toHaveLength(1);
  });

  it('rejects an unknown kind with its reason, and the partition goes on', async () => {
    const bad = await harness.client.submit({ kind: 'no-such-kind', action: 'run', payload: {} });
    const good = await harness.client.submit(probe('succeed'));
    expect((await harness.log.waitFor(bad.taskId, ends('TaskRejected')))[0]?.body).toMatchObject({ code: 'UNKNOWN_KIND' });
    await harness.log.waitFor(good.taskId, ends('TaskCompleted'));
  });

  it('runs a hundred tasks to one end each, no event written twice', { timeout: 60_000 }, async () => {
    const receipts = await harness.client.submitMany(Array.from({ length: 100 }, (_, i) => probe(i % 4 === 0 ? 'fail' : 'succeed')));
    const ended = (id: string) => ['TaskCompleted', 'RollbackSucceeded'].includes(harness.log.types(id).at(-1) ?? '');
    await harness.log.waitForAll(() => receipts.every((r) => ended(r.taskId)), 45_000, () => `${receipts.filter((r) => !ended(r.taskId)).length} not ended`);
    for (const { taskId } of receipts) expect(harness.log.types(taskId).filter((t) => t === 'TaskCompleted' || t === 'TaskFailed')).toHaveLength(1);
    // No event written twice: (task, sequence) is unique in the log.
    const written = harness.log.all.map((e) => `${e.taskId}#${e.sequence}`);
    expect(new Set(written).size).toBe(written.length);
  });

  it('POSTs the outcome to a webhook origin, signed, and records one that never arrives', { timeout: 60_000 }, async () => {
    receiver.script('/refusing', [500]);
    const delivered = await harness.client.submit({ ...probe('succeed'), origin: { type: 'webhook', target: `${base}/done` } });
    const refused = await harness.client.submit({ ...probe('succeed'), origin: { type: 'webhook', target: `${base}/refusing` } });
    const [request] = await receiver.waitFor('/done', 1);
    const header = (name: string) => [request?.headers[name]].flat()[0];
    expect(deliveryProblem({ secret, body: request?.body ?? '', timestamp: header(WEBHOOK_HEADERS.timestamp), signature: header(WEBHOOK_HEADERS.signature) })).toBeNull();
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({ taskId: delivered.taskId, status: 'Completed' });
    const history = await harness.log.waitFor(refused.taskId, ends('ReplyUndelivered'));
    expect(history.at(-1)?.body).toMatchObject({ code: 'WEBHOOK_UNDELIVERED', target: `${base}/refusing` });
    expect(receiver.to('/refusing')).toHaveLength(2);
  });

  it('replies to a topic origin where Kafka is present, and records the reply undelivered where it is not', { timeout: 60_000 }, async () => {
    const replies = `${config.replyTopicPrefix}orders`;
    const kafkaPresent = brokerName === 'kafka' || channel === 'kafka';
    if (kafkaPresent) await createTopic(testKafka(), replies, 1);
    const { taskId } = await harness.client.submit({ ...probe('succeed'), origin: { type: 'topic', target: replies } });
    if (kafkaPresent) {
      await harness.log.waitFor(taskId, ends('TaskCompleted'));
      const [reply] = await consumeCount(testKafka(), replies, 1);
      expect(reply?.message.key?.toString()).toBe(taskId);
    } else {
      const history = await harness.log.waitFor(taskId, ends('ReplyUndelivered'));
      expect(history.map((e) => e.type)).toContain('TaskCompleted');
      expect(history.at(-1)?.body).toMatchObject({ code: 'ORIGIN_TOPIC_MISSING', target: replies });
    }
  });
});

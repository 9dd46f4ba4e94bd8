// What a producer with write access to the custom broker's inbox (or a submit key) can send
// it, on real PostgreSQL with Kafka as its channel (so replies to topics are live): origins
// naming internal and STACKL topics, a payload at and one byte over the limit, one nested
// 20,000 deep, rows that do not decode and a result under another task's key. Each is
// answered with an event or kept as a dead letter naming its inbox row, and the partition
// keeps deciding. (Connections dropped mid-transaction: broker-processes-crash.test.ts.)
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import { build } from '../../../api/app.js';
import { createCustomApiDeps } from '../../../api/custom-deps.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { InboxClient } from '../../../processors/broker/custom/inbox-client.js';
import { startCustomBroker, type RunningCustomBroker } from '../../../processors/broker/custom/start-custom-broker.js';
import { encode, taskResultSchema, type SubmitTask, type TaskEventMessage } from '../../../schemas/index.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames } from '../../../topics/names.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { rawSubmit } from '../../support/raw-requests.js';
import { TableEventLog } from '../../support/table-event-log.js';

const schema = uniqueSchema('custom_hostile');
const env = { STACKL_TOPIC_PREFIX: uniquePrefix('custom-hostile'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: schema, STACKL_BROKER: 'custom', STACKL_CHANNEL: 'kafka', DATABASE_URL: testDatabaseUrl() };
const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
const log = new TableEventLog(pool, schema);
let config: StacklConfig;
let client: InboxClient;
let broker: RunningCustomBroker;
let worker: Worker;

beforeAll(async () => {
  config = loadConfig({ ...process.env, ...env });
  await migrate(testDatabaseUrl(), schema);
  broker = await startCustomBroker(config, {}, env);
  worker = await startWorker(config, { ...env, STACKL_WORKER_CONCURRENCY: '4' });
  client = new InboxClient({ pool, schema, partitions: config.partitions });
  log.start();
}, 90_000);
afterAll(async () => {
  await log.stop();
  await worker?.stop();
  await broker?.stop();
  await pool.end();
  await dropSchema(schema);
});

const ends = (last: string) => (types: string[]) => types[types.length - 1] === last;
const bodyOf = <T>(events: TaskEventMessage[], type: string) => events.find((e) => e.type === type)?.body as T | undefined;

/** A row written straight into the inbox, as a producer bypassing every check would. */
async function insertRaw(taskId: string, source: 'request' | 'result', body: Buffer): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(`insert into "${schema}".broker_inbox (partition, task_id, source, body) values ($1, $2, $3, $4) returning id`, [partitionForKey(taskId, config.partitions), taskId, source, body]);
  return rows[0]?.id ?? '';
}

async function submitRaw(body: Partial<SubmitTask>): Promise<string> {
  const taskId = uuidV7();
  await insertRaw(taskId, 'request', rawSubmit(taskId, body));
  return taskId;
}

async function anOrdinaryTaskCompletes(): Promise<void> {
  const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
  await log.waitFor(taskId, ends('TaskCompleted'));
}

/** A document payload of exactly `bytes` bytes of JSON. */
function documentPayload(bytes: number): string {
  const frame = '{"documents":[{"key":"a/b/c","body":{"pad":""}}]}';
  return frame.replace('"pad":""', `"pad":"${'x'.repeat(bytes - frame.length)}"`);
}

describe('the custom broker under hostile inputs', () => {
  it('rejects an origin naming an internal or STACKL topic and keeps deciding', async () => {
    const topics = topicNames(config.topicPrefix);
    const forbidden = ['__consumer_offsets', '__transaction_state', topics.requests, topics.events, topics.dispatch, topics.rollbacks, topics.dlq, changelogTopic(config.topicPrefix, LIFECYCLE_APP, LIFECYCLE_TABLE)];
    const ids = await Promise.all(forbidden.map((target) => submitRaw({ origin: { type: 'topic', target } })));
    for (const [i, taskId] of ids.entries()) {
      const history = await log.waitFor(taskId, ends('TaskRejected'));
      expect({ target: forbidden[i], rejection: history[0]?.body }).toMatchObject({ target: forbidden[i], rejection: { code: 'INVALID_ORIGIN' } });
    }
    // Nothing of theirs reached the outbox as a reply.
    const { rows } = await pool.query(`select 1 from "${schema}".broker_outbox where queue like 'reply:%'`);
    expect(rows).toEqual([]);
    await anOrdinaryTaskCompletes();
  });

  it('takes a payload at the limit, rejects one byte over and one nested 20,000 deep, and keeps deciding', { timeout: 60_000 }, async () => {
    const at = await submitRaw({ kind: 'document', action: 'create', payload: documentPayload(config.maxPayloadBytes) });
    const over = await submitRaw({ kind: 'document', action: 'create', payload: documentPayload(config.maxPayloadBytes + 1) });
    const deep = await submitRaw({ kind: 'document', action: 'create', payload: `{"documents":[{"key":"a/b/c","body":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}` });
    expect((await log.waitFor(at, (t) => t.includes('TaskSubmitted') || t.includes('TaskRejected'))).map((e) => e.type)).toContain('TaskSubmitted');
    expect(bodyOf(await log.waitFor(over, ends('TaskRejected')), 'TaskRejected')).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining(`${config.maxPayloadBytes} allowed`) });
    expect(bodyOf(await log.waitFor(deep, ends('TaskRejected')), 'TaskRejected')).toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringContaining('nested more than the 64 levels allowed') });
    await anOrdinaryTaskCompletes();
  });

  it('keeps rows that do not decode, and a result under another task key, as dead letters naming their row, and keeps deciding', async () => {
    const garbageRequest = await insertRaw(uuidV7(), 'request', Buffer.from('definitely not Avro'));
    const garbageResult = await insertRaw(uuidV7(), 'result', Buffer.alloc(0));
    const victim = uuidV7();
    const misfiled = await insertRaw(uuidV7(), 'result', encode(taskResultSchema, { eventId: uuidV7(), taskId: victim, sequence: 0, time: Date.now(), causationId: null, correlationId: null, type: 'AttemptStarted', body: { attempt: 1, workerId: 'w' } }));
    await anOrdinaryTaskCompletes();
    // Those rows may sit on other partitions than the ordinary task: wait until they left the inbox.
    const hostile = [garbageRequest, garbageResult, misfiled];
    const left = async () => (await pool.query(`select 1 from "${schema}".broker_inbox where id = any($1::bigint[])`, [hostile])).rows.length;
    for (const until = Date.now() + 20_000; (await left()) > 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await left()).toBe(0);
    const { rows } = await pool.query<{ headers: Record<string, string> }>(`select headers from "${schema}".broker_dead_letters`);
    const byRow = new Map(rows.map((r) => [r.headers['stackl.dlq.inbox-id'], r.headers['stackl.dlq.error.code']]));
    expect(byRow.get(garbageRequest)).toMatch(/^DECODE_/);
    expect(byRow.get(garbageResult)).toMatch(/^DECODE_/);
    expect(byRow.get(misfiled)).toBe('KEY_MISMATCH');
    expect(log.types(victim)).toEqual([]);

    // The console's dead-letter page reads them through the API, as it reads task.dlq under the Kafka broker.
    const api = await createCustomApiDeps(config, { options: { backlogPollMs: 60_000 } });
    try {
      const app = build(api.deps);
      const response = await app.inject('/dead-letters?limit=100');
      expect(response.statusCode).toBe(200);
      const items = (response.json() as { items: { key: string | null; offset: string; headers: Record<string, string | null>; value: unknown }[] }).items;
      const listed = new Map(items.map((item) => [item.headers['stackl.dlq.inbox-id'], item]));
      expect(listed.get(garbageRequest)).toMatchObject({ partition: 0, headers: { 'stackl.dlq.source': 'inbox:request', 'stackl.dlq.error.code': expect.stringMatching(/^DECODE_/) }, value: { text: 'definitely not Avro' } });
      expect(listed.get(misfiled)?.headers['stackl.dlq.error.code']).toBe('KEY_MISMATCH');
      // Newest first, by row id.
      const offsets = items.map((item) => BigInt(item.offset));
      expect([...offsets].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))).toEqual(offsets);
      await app.close();
    } finally {
      await api.close();
    }
  });
});

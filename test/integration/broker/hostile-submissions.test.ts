// What a producer with nothing but write access to task.requests (or a submit key) can
// send the `kafka` broker, on the real broker: origins naming internal and STACKL topics,
// payloads over the limit, nested 20,000 deep or holding what PostgreSQL cannot store,
// replies Kafka refuses or cannot place, outputs over the limit. Every one is answered with
// an event, and the broker keeps serving, also after a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import type { SubmitTask, TaskEventMessage } from '../../../schemas/index.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames } from '../../../topics/names.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { EventLog } from '../../support/event-log.js';
import { consumeCount, createTopic, testKafka } from '../../support/kafka.js';
import { token, uniquePrefix } from '../../support/names.js';
import { probeScript, ScriptedWorker } from '../../support/probe-worker.js';
import { rawSubmit } from '../../support/raw-requests.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('hostile'), STACKL_PARTITIONS: '3' });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);
/** Tasks whose attempts the scripted worker leaves alone; the test reports for them. */
const silent = new Set<string>();
const worker = new ScriptedWorker(kafka, topics, {
  attempt: (task, n) => (silent.has(task.id) ? 'ignore' : probeScript.attempt(task, n)),
  rollback: (task, n) => probeScript.rollback(task, n),
});
let broker: RunningLifecycleApp;

beforeAll(async () => {
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  await worker.start();
  await log.start();
});
afterAll(async () => {
  await Promise.all([worker.stop(), log.stop(), client.close()]);
  await broker.stop();
});

const probe = { kind: 'probe', action: 'run', payload: { outcome: 'succeed' } };
const ends = (last: string) => (types: string[]) => types[types.length - 1] === last;
const bodyOf = <T>(events: TaskEventMessage[], type: string) => events.find((e) => e.type === type)?.body as T | undefined;

/** A SubmitTask written straight to task.requests, as a producer bypassing the API would. */
async function submitRaw(body: Partial<SubmitTask>): Promise<string> {
  const taskId = uuidV7();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic: topics.requests, acks: -1, messages: [{ key: taskId, value: rawSubmit(taskId, body), partition: partitionForKey(taskId, config.partitions) }] });
  await producer.disconnect();
  return taskId;
}

async function anOrdinaryTaskCompletes(): Promise<void> {
  const { taskId } = await client.submit(probe);
  await log.waitFor(taskId, ends('TaskCompleted'));
}

describe('the kafka broker under hostile submissions', () => {
  it('rejects an origin naming an internal or STACKL topic, answering nothing there, and keeps serving', async () => {
    const forbidden = ['__consumer_offsets', '__transaction_state', topics.requests, topics.events, topics.dispatch, topics.rollbacks, topics.dlq, changelogTopic(config.topicPrefix, LIFECYCLE_APP, LIFECYCLE_TABLE), 'elsewhere'];
    const ids = await Promise.all(forbidden.map((target) => client.submit({ ...probe, origin: { type: 'topic', target } })));
    for (const [i, { taskId }] of ids.entries()) {
      const history = await log.waitFor(taskId, ends('TaskRejected'));
      expect({ target: forbidden[i], rejection: history[0]?.body }).toMatchObject({ target: forbidden[i], rejection: { code: 'INVALID_ORIGIN', message: expect.stringContaining(config.replyTopicPrefix) } });
    }
    await anOrdinaryTaskCompletes();
  });

  it('rejects a payload over the limit, one nested 20,000 deep and one PostgreSQL cannot store, and keeps serving', async () => {
    // 600 KB of JSON that escaping for the state doubles: more than a 1 MiB record could hold.
    const huge = await submitRaw({ payload: `{"outcome":"succeed","pad":"${'\\"'.repeat(300_000)}"}` });
    const deep = await submitRaw({ kind: 'document', action: 'create', payload: `{"documents":[{"key":"a/b/c","body":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}` });
    const nul = await submitRaw({ kind: 'document', action: 'create', payload: '{"documents":[{"key":"a/b/c","body":{"a":"\\u0000"}}]}' });
    const rejection = async (taskId: string) => bodyOf<{ code: string; message: string }>(await log.waitFor(taskId, ends('TaskRejected')), 'TaskRejected');
    expect(await rejection(huge)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining(`${config.maxPayloadBytes} allowed`) });
    expect(await rejection(deep)).toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringContaining('nested more than the 64 levels allowed') });
    expect(await rejection(nul)).toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringContaining('\\u0000') });
    await anOrdinaryTaskCompletes();
  });

  it('bounds what it keeps of names a producer chose', async () => {
    const taskId = await submitRaw({ kind: 'k'.repeat(500_000), idempotencyKey: null });
    const history = await log.waitFor(taskId, ends('TaskRejected'));
    const rejection = bodyOf<{ code: string; message: string }>(history, 'TaskRejected');
    expect(rejection?.code).toBe('INVALID_OPTIONS');
    expect(rejection?.message.length).toBeLessThan(3_000);
  });

  it('dead-letters a reply Kafka refuses, records it as ReplyUndelivered, and the task stays completed', async () => {
    const tiny = `${config.replyTopicPrefix}tiny-${token()}`;
    await createTopic(kafka, tiny, 1, { 'max.message.bytes': '2048' });
    const { taskId } = await client.submit({ ...probe, idempotencyKey: `tiny-${token()}`, origin: { type: 'topic', target: tiny } });
    silent.add(taskId);
    await log.waitFor(taskId, (t) => t.includes('AttemptDispatched'));
    await worker.report(taskId, { type: 'AttemptStarted', body: { attempt: 1, workerId: 'w' } });
    await worker.report(taskId, { type: 'AttemptSucceeded', body: { attempt: 1, workerId: 'w', output: JSON.stringify({ pad: 'z'.repeat(4000) }) } });
    const history = await log.waitFor(taskId, ends('ReplyUndelivered'));
    expect(history.map((e) => e.type).slice(-2)).toEqual(['TaskCompleted', 'ReplyUndelivered']);
    expect(bodyOf(history, 'ReplyUndelivered')).toMatchObject({ target: tiny, code: 'MESSAGE_TOO_LARGE' });
    const dead = await consumeCount(kafka, topics.dlq, 1, { timeoutMs: 20_000 });
    const mine = dead.filter((d) => d.message.key?.toString() === taskId);
    expect(mine.map((d) => d.message.headers?.[DLQ_HEADERS.replyTarget]?.toString())).toEqual([tiny]);
    expect(history.map((e) => e.sequence)).toEqual(history.map((_, i) => i + 1));
    await anOrdinaryTaskCompletes();
  });

  it('records a reply to a reply topic that does not exist as ReplyUndelivered', async () => {
    const missing = `${config.replyTopicPrefix}missing-${token()}`;
    const { taskId } = await client.submit({ ...probe, origin: { type: 'topic', target: missing } });
    const history = await log.waitFor(taskId, ends('ReplyUndelivered'));
    expect(bodyOf(history, 'ReplyUndelivered')).toMatchObject({ target: missing, code: 'ORIGIN_TOPIC_MISSING' });
  });

  it('fails an attempt whose output is over the limit, saying why, and rolls the task back', async () => {
    const { taskId } = await client.submit({ ...probe, idempotencyKey: `big-output-${token()}` });
    silent.add(taskId);
    await log.waitFor(taskId, (t) => t.includes('AttemptDispatched'));
    await worker.report(taskId, { type: 'AttemptStarted', body: { attempt: 1, workerId: 'w' } });
    await worker.report(taskId, { type: 'AttemptSucceeded', body: { attempt: 1, workerId: 'w', output: JSON.stringify('o'.repeat(config.maxOutputBytes)) } });
    const history = await log.waitFor(taskId, ends('RollbackSucceeded'));
    expect(history.map((e) => e.type)).not.toContain('TaskCompleted');
    expect(bodyOf(history, 'AttemptFailed')).toMatchObject({ message: expect.stringContaining(`more than the ${config.maxOutputBytes} allowed`), retryAt: null });
  });

  it('starts again after all of the above and completes an ordinary task', async () => {
    await broker.stop();
    broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    await anOrdinaryTaskCompletes();
  });
});

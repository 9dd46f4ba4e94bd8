// Hostile records meeting in one transaction of the `kafka` broker (commit-combiner.ts):
// with one partition and the broker stopped, hostile submissions wait on task.requests
// and an undecodable record on task.results, so the restarted broker's first fetch brings
// both topics at once. Every submission is answered as it must be, the undecodable result
// is dead-lettered with its origin, and the broker keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import type { SubmitTask, TaskEventMessage } from '../../../schemas/index.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames } from '../../../topics/names.js';
import { EventLog } from '../../support/event-log.js';
import { consumeCount, testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { probeScript, ScriptedWorker } from '../../support/probe-worker.js';
import { probePayloadOf, rawSubmit } from '../../support/raw-requests.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('combhostile'), STACKL_PARTITIONS: '1' });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);
const worker = new ScriptedWorker(kafka, topics, probeScript);
let broker: RunningLifecycleApp | undefined;

beforeAll(async () => {
  // A first broker creates the topics; the test writes while none runs.
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  await broker.stop();
  broker = undefined;
  await worker.start();
  await log.start();
});
afterAll(async () => {
  await Promise.all([worker.stop(), log.stop(), client.close()]);
  await broker?.stop();
});

const ends = (last: string) => (types: string[]) => types[types.length - 1] === last;
const rejectionOf = (events: TaskEventMessage[]) => events.find((e) => e.type === 'TaskRejected')?.body as { code: string } | undefined;

describe('the kafka broker, hostile records of both input topics in one transaction', () => {
  it('answers each submission, dead-letters the undecodable result with its origin, and keeps serving', { timeout: 120_000 }, async () => {
    const submissions: [string, Partial<SubmitTask>][] = [
      ['internal origin', { origin: { type: 'topic', target: '__transaction_state' } }],
      ['STACKL origin', { origin: { type: 'topic', target: topics.events } }],
      ['nested 20,000 deep', { kind: 'document', action: 'create', payload: `{"documents":[{"key":"a/b/c","body":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}` }],
      ['payload at the limit', { payload: probePayloadOf(config.maxPayloadBytes) }],
      ['payload one byte over', { payload: probePayloadOf(config.maxPayloadBytes + 1) }],
    ];
    const ids = submissions.map(() => uuidV7());
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    try {
      await producer.send({ topic: topics.requests, acks: -1, messages: submissions.map(([, body], i) => ({ key: ids[i] as string, value: rawSubmit(ids[i] as string, body), partition: 0 })) });
      await producer.send({ topic: topics.results, acks: -1, messages: [{ key: uuidV7(), value: Buffer.from('not a result'), partition: 0 }] });
    } finally {
      await producer.disconnect();
    }

    broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    const outcome = async (i: number) => {
      const history = await log.waitFor(ids[i] as string, (types) => ends('TaskRejected')(types) || ends('TaskCompleted')(types));
      return { case: submissions[i]?.[0], last: history[history.length - 1]?.type, code: rejectionOf(history)?.code };
    };
    expect(await Promise.all(submissions.map((_, i) => outcome(i)))).toEqual([
      { case: 'internal origin', last: 'TaskRejected', code: 'INVALID_ORIGIN' },
      { case: 'STACKL origin', last: 'TaskRejected', code: 'INVALID_ORIGIN' },
      { case: 'nested 20,000 deep', last: 'TaskRejected', code: 'INVALID_PAYLOAD' },
      { case: 'payload at the limit', last: 'TaskCompleted', code: undefined },
      { case: 'payload one byte over', last: 'TaskRejected', code: 'PAYLOAD_TOO_LARGE' },
    ]);
    const [dead] = await consumeCount(kafka, topics.dlq, 1);
    expect(dead?.message.headers?.[DLQ_HEADERS.topic]?.toString()).toBe(topics.results);
    expect(dead?.message.value?.toString()).toBe('not a result');

    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
    await log.waitFor(taskId, ends('TaskCompleted'));
  });
});

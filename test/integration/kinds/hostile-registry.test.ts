// Records on task.kinds written around the registrar, as anyone with write access to the
// topic could: not JSON, a key that is not the record's name, an incompatible change, a
// schema no broker can use, a copy of a built-in kind, and a tombstone. The broker logs
// and ignores each one it cannot take, keeps accepting what it accepted, and keeps
// deciding; only the tombstone withdraws a kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../../core/config.js';
import { createWorker, defineKind, implement } from '../../../index.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { kindRecordOf } from '../../../processors/registry/kind-record.js';
import { topicNames } from '../../../topics/names.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';

const env = { ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('hostile-kinds'), STACKL_PARTITIONS: '2' };
const config = loadConfig(env);
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const events = new EventLog(kafka, topics.events);
const producer = kafka.producer();

const echo = defineKind({ name: 'echo', actions: ['say'], payload: z.strictObject({ text: z.string().max(20) }), rollback: 'none' });
let broker: RunningLifecycleApp;
let worker: Worker;

beforeAll(async () => {
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  await Promise.all([events.start(), producer.connect()]);
  worker = await createWorker({ kinds: [implement(echo, { run: async (payload) => ({ said: payload.text }) })], env, concurrency: 2 });
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([worker?.stop(), client.close(), events.stop(), producer.disconnect()]);
  await broker?.stop();
});

async function write(key: string, value: string | null): Promise<void> {
  await producer.send({ topic: topics.kinds, acks: -1, messages: [{ key, value }] });
}

async function outcome(kind: string, payload: unknown): Promise<string[]> {
  const { taskId } = await client.submit({ kind, action: 'say', payload });
  const history = await events.waitFor(taskId, (types) => types.includes('TaskCompleted') || types.includes('TaskRejected'));
  return history.map((e) => (e.type === 'TaskRejected' ? `TaskRejected ${e.body.code}` : e.type)).filter((t) => t === 'TaskCompleted' || t.startsWith('TaskRejected'));
}

describe('the kind registry under hostile records', () => {
  it('ignores what it cannot take, and the partition keeps deciding', async () => {
    const narrowed = { ...kindRecordOf(echo, 'echo', 'intruder'), payloadSchemas: { say: { type: 'object', properties: { text: { type: 'string' }, extra: { type: 'string' } }, required: ['text', 'extra'] } } };
    await write('echo', '{not json');
    await write('echo', JSON.stringify({ ...kindRecordOf(echo, 'echo', 'intruder'), name: 'other' }));
    await write('echo', JSON.stringify(narrowed));
    await write('echo', JSON.stringify({ ...kindRecordOf(echo, 'echo', 'intruder'), payloadSchemas: { say: { type: 'no-such-type' } } }));
    await write('probe', JSON.stringify({ ...kindRecordOf({ ...echo, name: 'probe' }, 'intruder', 'intruder') }));
    await write('x'.repeat(300), JSON.stringify({ huge: 'y'.repeat(300_000) }));
    // Still the kind its worker registered: the narrowing (a new required field) was ignored.
    expect(await outcome('echo', { text: 'hello' })).toEqual(['TaskCompleted']);
    expect(await outcome('echo', { text: 'hello', extra: 'x' })).toEqual(['TaskRejected INVALID_PAYLOAD']);
    // The built-in probe is this code's, whatever the topic says: accepted, with its own schema.
    const probe = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
    await events.waitFor(probe.taskId, (types) => types.includes('AttemptDispatched'));
    expect(await outcome('probe', { text: 'not a probe' })).toEqual(['TaskRejected UNKNOWN_ACTION']);
  });

  it('a tombstone withdraws the kind: new tasks of it are refused, naming it', async () => {
    await write('echo', null);
    expect(await outcome('echo', { text: 'again' })).toEqual(['TaskRejected UNKNOWN_KIND']);
  });
});

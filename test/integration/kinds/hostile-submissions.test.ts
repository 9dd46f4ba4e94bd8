// What a producer with a submit key (or write access to task.requests) can send about a
// kind registered by a worker of its own: an origin naming an internal or STACKL topic
// (the registry's own topic too), a payload at and one byte over the size limit, one
// nested 20,000 deep, a flood of kinds nobody registered (each makes the broker read the
// registry before it refuses), and a kind name of 10,000 characters. Each is answered as
// it must, through Kafka and through the API, and the partition keeps deciding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { build, type StacklApi } from '../../../api/app.js';
import { createApiDeps, type OwnedApiDeps } from '../../../api/deps-factory.js';
import { loadConfig } from '../../../core/config.js';
import { createWorker, defineKind, implement } from '../../../index.js';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import type { SubmitTask, TaskEventMessage } from '../../../schemas/index.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames } from '../../../topics/names.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { rawSubmit } from '../../support/raw-requests.js';

const env = { ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('hostile-own'), STACKL_PARTITIONS: '2' };
const config = loadConfig(env);
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const producer = kafka.producer();
const events = new EventLog(kafka, topics.events);

/** A kind with a free-form field, so a payload can be made exactly as large as allowed. */
const blob = defineKind({ name: 'blob', actions: ['put'], payload: z.strictObject({ data: z.unknown() }), rollback: 'none' });
let broker: RunningLifecycleApp;
let worker: Worker;
let owned: OwnedApiDeps;
let api: StacklApi;

beforeAll(async () => {
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  await Promise.all([events.start(), producer.connect()]);
  worker = await createWorker({ kinds: [implement(blob, { run: async () => ({ stored: true }) })], env, concurrency: 2 });
  owned = await createApiDeps(config);
  api = build(owned.deps);
  await api.ready();
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([worker?.stop(), events.stop(), producer.disconnect()]);
  await api?.close();
  await owned?.close();
  await broker?.stop();
});

/** A SubmitTask written straight to task.requests, bypassing every check of the API. */
async function submitRaw(body: Partial<SubmitTask>): Promise<string> {
  const taskId = uuidV7();
  await producer.send({ topic: topics.requests, acks: -1, messages: [{ key: taskId, value: rawSubmit(taskId, { kind: 'blob', action: 'put', payload: '{"data":1}', ...body }), partition: partitionForKey(taskId, config.partitions) }] });
  return taskId;
}

const answered = (types: string[]) => types.includes('TaskRejected') || types.includes('TaskCompleted');
async function answer(taskId: string): Promise<TaskEventMessage | undefined> {
  return (await events.waitFor(taskId, answered)).find((e) => e.type === 'TaskRejected' || e.type === 'TaskCompleted');
}

/** `{"data":"xxx…"}` exactly `bytes` long. */
const payloadOf = (bytes: number): string => `{"data":"${'x'.repeat(bytes - 11)}"}`;

async function anOrdinaryTaskCompletes(): Promise<void> {
  expect(await answer(await submitRaw({}))).toMatchObject({ type: 'TaskCompleted' });
}

describe('hostile submissions of a registered kind', () => {
  it('through Kafka: forbidden origins, the size limit, 20,000 levels, and the partition keeps deciding', { timeout: 90_000 }, async () => {
    const forbidden = ['__consumer_offsets', '__transaction_state', topics.requests, topics.events, topics.dispatch, topics.kinds, topics.dlq, changelogTopic(config.topicPrefix, LIFECYCLE_APP, LIFECYCLE_TABLE)];
    for (const target of forbidden) expect(await answer(await submitRaw({ origin: { type: 'topic', target } }))).toMatchObject({ type: 'TaskRejected', body: { code: 'INVALID_ORIGIN' } });
    expect(payloadOf(config.maxPayloadBytes)).toHaveLength(config.maxPayloadBytes);
    expect(await answer(await submitRaw({ payload: payloadOf(config.maxPayloadBytes) }))).toMatchObject({ type: 'TaskCompleted' });
    expect(await answer(await submitRaw({ payload: payloadOf(config.maxPayloadBytes + 1) }))).toMatchObject({ type: 'TaskRejected', body: { code: 'PAYLOAD_TOO_LARGE' } });
    const deep = await answer(await submitRaw({ payload: `{"data":${'['.repeat(20_000)}${']'.repeat(20_000)}}` }));
    expect(deep).toMatchObject({ type: 'TaskRejected', body: { code: 'INVALID_PAYLOAD', message: expect.stringContaining('nested more than the 64 levels allowed') } });
    await anOrdinaryTaskCompletes();
  });

  it('through Kafka: 200 kinds nobody registered and a 10,000-character name are refused, and the partition keeps deciding', { timeout: 90_000 }, async () => {
    const began = Date.now();
    const unknown = await Promise.all(Array.from({ length: 200 }, (_, i) => submitRaw({ kind: `nobody-${i}` })));
    const long = await submitRaw({ kind: 'k'.repeat(10_000) });
    for (const taskId of unknown) expect(await answer(taskId)).toMatchObject({ type: 'TaskRejected', body: { code: 'UNKNOWN_KIND' } });
    expect(await answer(long)).toMatchObject({ type: 'TaskRejected', body: { code: 'INVALID_OPTIONS' } });
    await anOrdinaryTaskCompletes();
    // Each unknown kind makes the broker read the registry first; readings are shared, so the flood stays cheap.
    expect(Date.now() - began).toBeLessThan(60_000);
  });

  it('through the API: the same cases answered with a 4xx naming what is wrong, nothing sent for them', async () => {
    const post = (body: unknown) => api.inject({ method: 'POST', url: '/tasks', payload: body as Record<string, unknown> });
    const internal = await post({ kind: 'blob', action: 'put', payload: { data: 1 }, origin: { type: 'topic', target: topics.kinds } });
    expect([internal.statusCode, internal.json().code]).toEqual([422, 'INVALID_ORIGIN']);
    const atLimit = await post({ kind: 'blob', action: 'put', payload: JSON.parse(payloadOf(config.maxPayloadBytes)) as unknown });
    expect(atLimit.statusCode).toBe(202);
    const over = await post({ kind: 'blob', action: 'put', payload: JSON.parse(payloadOf(config.maxPayloadBytes + 1)) as unknown });
    expect([over.statusCode, over.json().code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const deep = await api.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: `{"kind":"blob","action":"put","payload":{"data":${'['.repeat(20_000)}${']'.repeat(20_000)}}}` });
    expect(deep.statusCode).toBeGreaterThanOrEqual(400);
    expect(deep.statusCode).toBeLessThan(500);
    const nobody = await post({ kind: 'nobody', action: 'put', payload: {} });
    expect([nobody.statusCode, nobody.json().code]).toEqual([422, 'UNKNOWN_KIND']);
    expect((await events.waitFor((atLimit.json() as { id: string }).id, answered)).map((e) => e.type)).toContain('TaskCompleted');
  });
});

// The `kafka` broker end to end on the real broker: the lifecycle processor running
// the decider, fed by a scripted worker over task.dispatch / task.results.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { taskIdForKey } from '../../../processors/broker/ids.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { KafkaTaskBroker } from '../../../processors/broker/kafka/kafka-task-broker.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import type { TaskSpec } from '../../../schemas/index.js';
import { topicNames } from '../../../topics/names.js';
import { EventLog } from '../../support/event-log.js';
import { consumeCount, createTopic, testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { probeScript, ScriptedWorker, type WorkerScript } from '../../support/probe-worker.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('lifecycle'), STACKL_PARTITIONS: '3' });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);

/** Per-task overrides of the probe script, keyed by task id. */
const scripts = new Map<string, Partial<WorkerScript>>();
const script: WorkerScript = {
  attempt: (task: TaskSpec, n: number) => scripts.get(task.id)?.attempt?.(task, n) ?? probeScript.attempt(task, n),
  rollback: (task: TaskSpec, n: number) => scripts.get(task.id)?.rollback?.(task, n) ?? probeScript.rollback(task, n),
};
const worker = new ScriptedWorker(kafka, topics, script);
let broker: RunningLifecycleApp;

beforeAll(async () => {
  broker = await startLifecycleApp(config, { tickIntervalMs: 20, defaults: { rollbackBackoff: { initialMs: 100, multiplier: 2, maxMs: 1000 } } });
  await worker.start();
  await log.start();
});
afterAll(async () => {
  await Promise.all([worker.stop(), log.stop(), client.close()]);
  await broker.stop();
});

const probe = (outcome: 'succeed' | 'fail' | 'hang', rollback: 'succeed' | 'fail' = 'succeed') => ({ kind: 'probe', action: 'run', payload: { outcome, rollback } });
const ends = (last: string) => (types: string[]) => types[types.length - 1] === last;

describe('kafka broker lifecycle', () => {
  it('completes a task and reports the outcome to its reply topic', async () => {
    const replies = `${config.replyTopicPrefix}orders`;
    await createTopic(kafka, replies, 1);
    const { taskId, position } = await client.submit({ ...probe('succeed'), origin: { type: 'topic', target: replies } });
    expect(position.topic).toBe(topics.requests);
    const history = await log.waitFor(taskId, ends('TaskCompleted'));
    expect(history.map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptSucceeded', 'TaskCompleted']);
    expect(history.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
    const [reply] = await consumeCount(kafka, replies, 1);
    expect(reply?.message.key?.toString()).toBe(taskId);
  });

  it('fails on a negative result, dispatches the rollback, and ends with the rollback done', async () => {
    const { taskId } = await client.submit(probe('fail'));
    const types = (await log.waitFor(taskId, ends('RollbackSucceeded'))).map((e) => e.type);
    expect(types).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptFailed', 'TaskFailed', 'RollbackDispatched', 'RollbackSucceeded']);
    expect(worker.received.filter((o) => o.taskId === taskId).map((o) => o.type)).toEqual(['RunAttempt', 'RunRollback']);
  });

  it('times out a task whose worker never answers, then rolls it back', async () => {
    const { taskId } = await client.submit({ ...probe('hang'), timeoutMs: 1500 });
    const history = await log.waitFor(taskId, ends('RollbackSucceeded'));
    const failed = history.find((e) => e.type === 'TaskFailed');
    expect(failed?.body).toMatchObject({ reason: 'timeout' });
    const submitted = history[0];
    // The timeout fired after the deadline, and not long after it.
    expect((failed?.time ?? 0) - (submitted?.time ?? 0)).toBeGreaterThanOrEqual(1500);
    expect((failed?.time ?? 0) - (submitted?.time ?? 0)).toBeLessThan(5000);
  });

  it('retries with backoff while attempts remain, then succeeds', async () => {
    const key = `retry-${config.topicPrefix}`;
    scripts.set(taskIdForKey(key), { attempt: (_t, n) => (n < 3 ? 'fail-retriable' : 'succeed') });
    const { taskId } = await client.submit({ ...probe('succeed'), idempotencyKey: key, maxAttempts: 3, retryBackoff: { initialMs: 100, multiplier: 2, maxMs: 1000 } });
    const history = await log.waitFor(taskId, ends('TaskCompleted'), 30_000);
    const dispatched = history.filter((e) => e.type === 'AttemptDispatched').map((e) => (e.body as { attempt: number }).attempt);
    expect(dispatched).toEqual([1, 2, 3]);
    expect(history.filter((e) => e.type === 'AttemptFailed').every((e) => (e.body as { retryAt: number | null }).retryAt !== null)).toBe(true);
  });

  it('treats a second submission with the same idempotency key as the same task', async () => {
    const key = `dup-${config.topicPrefix}`;
    const first = await client.submit({ ...probe('succeed'), idempotencyKey: key });
    const second = await client.submit({ ...probe('succeed'), idempotencyKey: key });
    expect(second.taskId).toBe(first.taskId);
    await log.waitFor(first.taskId, ends('TaskCompleted'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(log.types(first.taskId).filter((t) => t === 'TaskSubmitted')).toHaveLength(1);
  });

  it('cancels a queued task at once and rolls it back', async () => {
    const key = `queued-${config.topicPrefix}`;
    scripts.set(taskIdForKey(key), { attempt: () => 'ignore' });
    const { taskId } = await client.submit({ ...probe('succeed'), idempotencyKey: key, timeoutMs: 60_000 });
    await log.waitFor(taskId, (t) => t.includes('AttemptDispatched'));
    await client.cancel(taskId, { reason: 'test' });
    const history = await log.waitFor(taskId, ends('RollbackSucceeded'));
    expect(history.find((e) => e.type === 'TaskFailed')?.body).toMatchObject({ reason: 'cancelled' });
    expect(history.map((e) => e.type)).not.toContain('AttemptStarted');
  });

  it('cancels a running task: fences the attempt, then rolls it back', async () => {
    const { taskId } = await client.submit({ ...probe('hang'), timeoutMs: 60_000 });
    await log.waitFor(taskId, (t) => t.includes('AttemptStarted'));
    await client.cancel(taskId);
    const types = (await log.waitFor(taskId, ends('RollbackSucceeded'))).map((e) => e.type);
    expect(types.slice(3)).toEqual(['AttemptFailed', 'TaskFailed', 'RollbackDispatched', 'RollbackSucceeded']);
  });

  it('ignores a result from a stale attempt', async () => {
    const { taskId } = await client.submit({ ...probe('hang'), timeoutMs: 60_000 });
    await log.waitFor(taskId, (t) => t.includes('AttemptStarted'));
    await worker.report(taskId, { type: 'AttemptSucceeded', body: { attempt: 7, workerId: 'stale', output: '{}' } });
    await client.cancel(taskId);
    const types = (await log.waitFor(taskId, ends('RollbackSucceeded'))).map((e) => e.type);
    expect(types).not.toContain('TaskCompleted');
    expect(types).not.toContain('AttemptSucceeded');
  });

  it('rolls back again when a success arrives after the rollback', async () => {
    const { taskId } = await client.submit({ ...probe('hang'), timeoutMs: 1000 });
    await log.waitFor(taskId, ends('RollbackSucceeded'));
    await worker.report(taskId, { type: 'AttemptSucceeded', body: { attempt: 1, workerId: 'late', output: '{}' } });
    const history = await log.waitFor(taskId, (t) => t.filter((x) => x === 'RollbackSucceeded').length === 2);
    const rollbacks = history.filter((e) => e.type === 'RollbackDispatched').map((e) => (e.body as { rollbackAttempt: number }).rollbackAttempt);
    expect(rollbacks).toEqual([1, 2]);
    expect(history.map((e) => e.type)).not.toContain('TaskCompleted');
  });

  it('leaves a rollback that keeps failing to an operator, who can retry it', async () => {
    const { taskId } = await client.submit({ ...probe('fail', 'fail'), rollbackMaxAttempts: 2, rollbackBackoff: { initialMs: 50, multiplier: 1, maxMs: 50 } });
    const history = await log.waitFor(taskId, (t) => t.filter((x) => x === 'RollbackFailed').length === 2);
    expect(history[history.length - 1]?.body).toMatchObject({ retryAt: null });
    scripts.set(taskId, { rollback: () => 'succeed' });
    await client.retryRollback(taskId, { requestedBy: 'operator' });
    const after = (await log.waitFor(taskId, ends('RollbackSucceeded'))).map((e) => e.type);
    expect(after.slice(-3)).toEqual(['RollbackRetryRequested', 'RollbackDispatched', 'RollbackSucceeded']);
  });

  it('rejects an unknown kind and an invalid payload without dispatching anything', async () => {
    const unknown = await client.submit({ kind: 'teleport', action: 'run', payload: {} });
    const invalid = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'maybe' } });
    const [u] = await log.waitFor(unknown.taskId, ends('TaskRejected'));
    const [i] = await log.waitFor(invalid.taskId, ends('TaskRejected'));
    expect(u?.body).toMatchObject({ code: 'UNKNOWN_KIND' });
    expect(i?.body).toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect(worker.received.some((o) => o.taskId === unknown.taskId || o.taskId === invalid.taskId)).toBe(false);
  });

  it('answers get() from the processor’s own table', async () => {
    const tasks = new KafkaTaskBroker(client, broker, config.partitions);
    const { taskId } = await tasks.submit({ ...probe('hang'), timeoutMs: 60_000 });
    await log.waitFor(taskId, (t) => t.includes('AttemptStarted'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const view = await tasks.get(taskId);
    expect(view).toMatchObject({ status: 'InProgress', attempt: 1, rollback: null });
    expect(view?.task?.id).toBe(taskId);
    expect(await tasks.get('0190f5d2-7a3c-7cc1-8d2e-000000000000')).toBeNull();
    await expect(tasks.get('not-a-task-id')).rejects.toMatchObject({ code: 'INVALID_TASK_ID', httpStatus: 400 });
    await client.cancel(taskId);
  });

  it('dead-letters a request that does not decode, with its origin, and keeps going', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const key = '0190f5d2-7a3c-7cc1-8d2e-00000000dead';
    await producer.send({ topic: topics.requests, messages: [{ key, value: Buffer.from([0xc3, 0x01, 1, 2, 3]), partition: partitionForKey(key, config.partitions) }] });
    await producer.disconnect();
    const dead = (await consumeCount(kafka, topics.dlq, 1, { timeoutMs: 20_000 }))[0];
    const headers = Object.fromEntries(Object.entries(dead?.message.headers ?? {}).map(([k, v]) => [k, v?.toString()]));
    expect(headers[DLQ_HEADERS.topic]).toBe(topics.requests);
    expect(headers[DLQ_HEADERS.code]).toMatch(/^DECODE_/);
    expect(headers[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
    const { taskId } = await client.submit(probe('succeed'));
    await log.waitFor(taskId, ends('TaskCompleted'));
  });
});

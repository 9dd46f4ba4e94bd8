// W3C trace context across roles, on the real pipeline: a `traceparent` on POST /tasks
// becomes the task's correlation id, carried by every event (and beside it as a Kafka
// header), by the work order the worker takes and by the worker's results; a malformed one
// is ignored, as the specification asks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { decode, taskEventSchema, taskResultSchema } from '../../../schemas/index.js';
import { topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { readFor, testKafka } from '../../support/kafka.js';
import { startHarness, type ApiHarness } from './harness.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
let h: ApiHarness;
let broker: RunningLifecycleApp;
let worker: Worker;
let log: EventLog;

beforeAll(async () => {
  h = await startHarness('trace');
  broker = await startLifecycleApp(h.config, { tickIntervalMs: 20 });
  worker = await startWorker(h.config, { STACKL_WORKER_CONCURRENCY: '2' });
  log = new EventLog(testKafka(), topicNames(h.config.topicPrefix).events);
  await log.start();
}, 90_000);
afterAll(async () => {
  await Promise.all([worker?.stop(), log?.stop()]);
  await broker?.stop();
  await h?.close();
});

const submit = async (traceparent: string): Promise<string> => {
  const res = await h.app.inject({
    method: 'POST',
    url: '/tasks',
    headers: { 'content-type': 'application/json', traceparent },
    payload: JSON.stringify({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 50 } }),
  });
  expect(res.statusCode).toBe(202);
  return res.json<{ id: string }>().id;
};

describe('traceparent', () => {
  it('follows a task from the request through every event, the work order and the results', { timeout: 60_000 }, async () => {
    const taskId = await submit(TRACEPARENT);
    const history = await log.waitFor(taskId, (types) => types.includes('TaskCompleted'));
    // Every event the request and the worker's results caused carries it.
    expect(history.map((e) => e.correlationId)).toEqual(history.map(() => TRACEPARENT));
    const topics = topicNames(h.config.topicPrefix);
    const events = (await readFor(testKafka(), topics.events, 2_000)).filter((r) => r.message.key?.toString() === taskId);
    expect(events.map((r) => r.message.headers?.traceparent?.toString())).toEqual(events.map(() => TRACEPARENT));
    const orders = (await readFor(testKafka(), topics.dispatch, 1_000)).filter((r) => r.message.key?.toString() === taskId);
    expect(orders.map((r) => r.message.headers?.traceparent?.toString())).toEqual([TRACEPARENT]);
    const results = (await readFor(testKafka(), topics.results, 1_000)).filter((r) => r.message.key?.toString() === taskId);
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) expect((await decode(result.message.value ?? Buffer.alloc(0), taskResultSchema)).correlationId).toBe(TRACEPARENT);
    const [first] = events;
    expect((await decode(first?.message.value ?? Buffer.alloc(0), taskEventSchema)).type).toBe('TaskSubmitted');
  });

  it('ignores a malformed traceparent: the task runs, correlated by its own request instead', { timeout: 60_000 }, async () => {
    const malformed = '00-00000000000000000000000000000000-00f067aa0ba902b7-01';
    const taskId = await submit(malformed);
    const history = await log.waitFor(taskId, (types) => types.includes('TaskCompleted'));
    expect(history.some((e) => e.correlationId === malformed)).toBe(false);
    expect(history[0]?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

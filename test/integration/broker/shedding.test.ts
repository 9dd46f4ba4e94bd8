// Load shedding at the broker, on a real Kafka: producers that write to task.requests
// directly never meet the API's 503, so the broker refuses new tasks itself
// (TaskRejected OVERLOADED, replied to the origin) when their request waited too long or
// too many orders wait for a worker — and takes them again once the workers catch up.
// Without broker shedding every one of these submissions would be queued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { decode, taskEventSchema, type TaskEventMessage } from '../../../schemas/index.js';
import { topicNames } from '../../../topics/names.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { consumeCount, createTopic, testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { MIN_ORDERS_FOR_WAIT } from '../../../topics/backlog.js';
import { rawSubmit } from '../../support/raw-requests.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('shed'), STACKL_PARTITIONS: '2' });
const topics = topicNames(config.topicPrefix);
const replyTopic = `${config.replyTopicPrefix}${uniquePrefix('shed')}`;
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);
/** Enough orders that their wait is judged (MIN_ORDERS_FOR_WAIT), with no worker to take them. */
const QUEUED = MIN_ORDERS_FOR_WAIT + 20;
let broker: RunningLifecycleApp;
let worker: Worker | undefined;

beforeAll(async () => {
  broker = await startLifecycleApp(config, { tickIntervalMs: 20, shedding: { maxRequestAgeMs: 30_000, maxOrderWaitMs: 10_000, maxQueuedOrders: 100_000, backlogPollMs: 200 } });
  await createTopic(kafka, replyTopic, 1);
  await log.start();
});
afterAll(async () => {
  await Promise.all([worker?.stop(), log.stop(), client.close()]);
  await broker.stop();
});

const probe = { kind: 'probe', action: 'run', payload: { outcome: 'succeed' } };
const rejectionOf = (events: TaskEventMessage[]) => events.find((e) => e.type === 'TaskRejected')?.body as { code: string; message: string } | undefined;

/** A SubmitTask straight to task.requests with the record timestamp a producer chose. */
async function submitStamped(timestamp: number): Promise<string> {
  const taskId = uuidV7();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const value = rawSubmit(taskId, { origin: { type: 'topic', target: replyTopic } });
  await producer.send({ topic: topics.requests, acks: -1, messages: [{ key: taskId, value, timestamp: String(timestamp), partition: partitionForKey(taskId, config.partitions) }] });
  await producer.disconnect();
  return taskId;
}

describe('the broker sheds new tasks under overload', () => {
  it('refuses a request that waited longer than STACKL_BROKER_MAX_REQUEST_AGE_MS, replies the refusal to its origin, and takes a fresh one', async () => {
    const stale = await submitStamped(Date.now() - 120_000);
    const fresh = await submitStamped(Date.now());
    const staleHistory = await log.waitFor(stale, (types) => types.includes('TaskRejected'));
    expect(staleHistory.map((e) => e.type)).toEqual(['TaskRejected']);
    expect(rejectionOf(staleHistory)).toEqual({ code: 'OVERLOADED', message: expect.stringMatching(/^the broker is shedding load: the request waited 1\d{5} ms for the broker \(limit 30000 ms\); submit again later under a new idempotency key$/) });
    expect((await log.waitFor(fresh, (types) => types.includes('AttemptDispatched'))).map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched']);

    const replies = await consumeCount(kafka, replyTopic, 1, { timeoutMs: 30_000 });
    const reply = await decode(replies[0]?.message.value ?? Buffer.alloc(0), taskEventSchema);
    expect({ taskId: reply.taskId, type: reply.type, code: (reply.body as { code?: string }).code }).toEqual({ taskId: stale, type: 'TaskRejected', code: 'OVERLOADED' });
  });

  it('refuses new tasks while the orders waiting would not drain within STACKL_BROKER_MAX_ORDER_WAIT_MS, still serves the tasks it holds, and takes new ones when workers catch up', async () => {
    // No worker runs: every task taken leaves its order on task.dispatch, and none is taken.
    const taken = (await client.submitMany(Array.from({ length: QUEUED }, () => probe))).map((r) => r.taskId);
    for (const id of taken) await log.waitFor(id, (types) => types.includes('AttemptDispatched'));
    // The broker reads the workers' group every 200 ms; once readings span 10 s with
    // orders waiting and none taken, their wait is without end: a new task is refused.
    let refused: TaskEventMessage[] | undefined;
    for (let i = 0; i < 100 && refused === undefined; i++) {
      const { taskId } = await client.submit(probe);
      const history = await log.waitFor(taskId, (types) => types.includes('TaskRejected') || types.includes('AttemptDispatched'));
      if (history[0]?.type === 'TaskRejected') refused = history;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rejectionOf(refused ?? [])).toEqual({ code: 'OVERLOADED', message: expect.stringMatching(/\d+ orders wait for a worker, no worker took one in the last seconds \(limit 10 s\)/) });

    // A task it holds is still served: its cancel goes through.
    const [cancelled] = taken as [string];
    await client.cancel(cancelled, { reason: 'no longer needed' });
    expect((await log.waitFor(cancelled, (types) => types.includes('TaskFailed'))).map((e) => e.type)).toContain('TaskFailed');

    // Workers drain the queue; the broker takes new tasks again and they complete.
    worker = await startWorker(config, { ...process.env, STACKL_WORKER_CONCURRENCY: '4' });
    for (const id of taken.slice(1)) await log.waitFor(id, (types) => types.includes('TaskCompleted'), 60_000);
    let completed: string | undefined;
    for (let i = 0; i < 100 && completed === undefined; i++) {
      const { taskId } = await client.submit(probe);
      const history = await log.waitFor(taskId, (types) => types.includes('TaskRejected') || types.includes('TaskCompleted'), 60_000);
      if (history.some((e) => e.type === 'TaskCompleted')) completed = taskId;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(completed).toBeDefined();
  });
});

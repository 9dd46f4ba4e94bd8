// Poison input, sent in the middle of the run: on every Kafka input topic (random
// bytes, truncated Avro, a record of another topic's schema, a huge record) and on
// every endpoint (random bytes, truncated JSON, wrong types, a body over the limit,
// malformed ids). Each Kafka record must reach the dead-letter topic with its origin
// in headers; each request must get a 4xx; nothing else may be lost. With the custom
// broker, which has no Kafka, the same bad records are rows of its inbox (as requests
// and as results), and each must become a row of broker_dead_letters naming its inbox row.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { brokerTables } from '../../../processors/broker/custom/tables.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { encode, taskRequestSchema, taskResultSchema } from '../../../schemas/index.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import type { TopicNames } from '../../../topics/names.js';
import { insertInbox, type InboxRow } from './inbox.js';
import type { Channel } from './world.js';

export interface PoisonRecord {
  /** The Kafka topic, or for the custom broker the inbox row's source as its dead letter names it (`inbox:request`, `inbox:result`). */
  topic: string;
  partition: number;
  /** The Kafka offset, or the inbox row's id. */
  offset: string;
  what: string;
}

/** The key deadLettered and deadLetteredFromInbox report a poison record under. */
export const poisonKey = (p: PoisonRecord): string => `${p.topic}/${p.partition}/${p.offset}`;

export interface PoisonRequest {
  what: string;
  status: number;
}

function validSubmit(taskId: string): Buffer {
  return encode(taskRequestSchema, {
    eventId: randomUUID(),
    taskId,
    sequence: 0,
    time: Date.now(),
    causationId: null,
    correlationId: null,
    type: 'SubmitTask',
    body: { kind: 'probe', action: 'run', payload: '{"outcome":"succeed"}', idempotencyKey: null, origin: { type: 'none', target: null }, timeoutMs: null, attemptTimeoutMs: null, heartbeatTimeoutMs: null, maxAttempts: null, retryBackoff: null, rollbackMaxAttempts: null, rollbackBackoff: null },
  } as never);
}

function someResult(taskId: string): Buffer {
  return encode(taskResultSchema, { eventId: randomUUID(), taskId, sequence: 0, time: Date.now(), causationId: null, correlationId: null, type: 'AttemptStarted', body: { attempt: 1, workerId: 'poison' } } as never);
}

export async function poisonKafka(kafka: Kafka, topics: TopicNames, partitions: number, channel: Channel): Promise<PoisonRecord[]> {
  // Kafka may be restarting (a fault of the schedule): keep trying to connect for a minute.
  for (let tries = 0; ; tries++) {
    try {
      return await poisonKafkaOnce(kafka, topics, partitions, channel);
    } catch (error) {
      if (tries >= 60) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

async function poisonKafkaOnce(kafka: Kafka, topics: TopicNames, partitions: number, channel: Channel): Promise<PoisonRecord[]> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const sent: PoisonRecord[] = [];
  const send = async (topic: string, what: string, value: Buffer, key = randomUUID()): Promise<void> => {
    const partition = partitionForKey(key, partitions);
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ key, value, partition }] });
    sent.push({ topic, partition, offset: meta?.baseOffset ?? '-1', what });
  };
  try {
    const id = randomUUID();
    await send(topics.requests, 'random bytes', randomBytes(64), id);
    await send(topics.requests, 'truncated Avro', validSubmit(id).subarray(0, 20), id);
    await send(topics.requests, 'a task.results record on task.requests', someResult(id), id);
    await send(topics.requests, 'a huge random record (600 KiB)', randomBytes(600 * 1024), id);
    await send(topics.results, 'random bytes', randomBytes(64));
    await send(topics.results, 'truncated Avro', someResult(randomUUID()).subarray(0, 12));
    await send(topics.dispatch, 'random bytes', randomBytes(48));
    await send(topics.rollbacks, 'random bytes', randomBytes(48));
    if (channel === 'kafka') await send(topics.agentJobs, 'not JSON', Buffer.from('{"jobId": '));
  } finally {
    await producer.disconnect();
  }
  return sent;
}

export async function poisonApi(api: string): Promise<PoisonRequest[]> {
  const json = { 'content-type': 'application/json' };
  const attempts: [string, string, string, RequestInit][] = [
    ['random bytes as JSON', 'POST', '/tasks', { headers: json, body: randomBytes(256) }],
    ['truncated JSON', 'POST', '/tasks', { headers: json, body: '{"kind":"probe","action":' }],
    ['wrong types', 'POST', '/tasks', { headers: json, body: JSON.stringify({ kind: 7, action: ['run'], payload: {} }) }],
    ['unknown field', 'POST', '/tasks', { headers: json, body: JSON.stringify({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, surprise: true }) }],
    ['payload failing its kind', 'POST', '/tasks', { headers: json, body: JSON.stringify({ kind: 'stack', action: 'create', payload: { name: 'NOT VALID' } }) }],
    ['body over the limit (3 MiB)', 'POST', '/tasks', { headers: json, body: JSON.stringify({ kind: 'probe', action: 'run', payload: { blob: 'x'.repeat(3 * 1024 * 1024) } }) }],
    ['malformed id', 'GET', '/tasks/not-a-uuid', {}],
    ['malformed id on cancel', 'POST', '/tasks/%27%3B%20drop%20table/cancel', { headers: json, body: '{}' }],
    ['malformed minPosition', 'GET', `/tasks/${randomUUID()}?minPosition=zz`, {}],
  ];
  const answers: PoisonRequest[] = [];
  for (const [what, method, path, init] of attempts) {
    // The API may be down for a moment (a fault): ask again until it answers.
    for (let tries = 0; ; tries++) {
      try {
        const response = await fetch(`${api}${path}`, { method, ...init, signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        answers.push({ what, status: response.status });
        break;
      } catch (error) {
        if (tries > 60) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
  return answers;
}

/** Which poison records reached the dead-letter topic, matched by their origin headers. */
export async function deadLettered(kafka: Kafka, dlqTopic: string, poison: readonly PoisonRecord[], timeoutMs = 60_000): Promise<Set<string>> {
  const wanted = new Set(poison.map(poisonKey));
  const found = new Set<string>();
  const consumer = kafka.consumer({ groupId: `chaos-dlq-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const h = message.headers ?? {};
      const origin = `${String(h[DLQ_HEADERS.topic])}/${String(h[DLQ_HEADERS.partition])}/${String(h[DLQ_HEADERS.offset])}`;
      if (wanted.has(origin)) found.add(origin);
    },
  });
  const until = Date.now() + timeoutMs;
  while (found.size < wanted.size && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 200));
  await consumer.disconnect();
  return found;
}

/**
 * The custom broker's input is its inbox: the Kafka poison of task.requests and
 * task.results as rows of it. (The orders' queues are RabbitMQ's and the agents' jobs go
 * through RabbitMQ too: no Kafka topic to poison.) Retried for a minute while PostgreSQL
 * is away (a fault); one statement, so the rows land together or not at all.
 */
export async function poisonInbox(pool: pg.Pool, schema: string, partitions: number): Promise<PoisonRecord[]> {
  const id = randomUUID();
  const rows: (InboxRow & { what: string })[] = [
    { taskId: id, source: 'request', body: randomBytes(64), what: 'random bytes' },
    { taskId: id, source: 'request', body: validSubmit(id).subarray(0, 20), what: 'truncated Avro' },
    { taskId: id, source: 'request', body: someResult(id), what: 'a result as a request' },
    { taskId: id, source: 'request', body: randomBytes(600 * 1024), what: 'a huge random row (600 KiB)' },
    { taskId: id, source: 'request', body: validSubmit(randomUUID()), what: "a submission under another task's id" },
    { taskId: randomUUID(), source: 'result', body: randomBytes(64), what: 'random bytes' },
    { taskId: randomUUID(), source: 'result', body: someResult(randomUUID()).subarray(0, 12), what: 'truncated Avro' },
  ];
  for (let tries = 0; ; tries++) {
    try {
      const added = await insertInbox(pool, schema, partitions, rows);
      return added.map((row, i) => ({ topic: `inbox:${rows[i]?.source}`, partition: row.partition, offset: row.id, what: rows[i]?.what ?? '?' }));
    } catch (error) {
      if (tries >= 60) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** Which inbox poison rows became dead letters: broker_dead_letters names each by its source and inbox id. */
export async function deadLetteredFromInbox(pool: pg.Pool, schema: string, poison: readonly PoisonRecord[], timeoutMs = 60_000): Promise<Set<string>> {
  const t = brokerTables(schema);
  const found = new Set<string>();
  for (const until = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 500))) {
    const { rows } = await pool.query<{ source: string; inbox_id: string | null }>(`select source, headers->>'stackl.dlq.inbox-id' as inbox_id from ${t.deadLetters} where source like 'inbox:%'`);
    const dead = new Set(rows.map((r) => `${r.source}/${r.inbox_id}`));
    for (const p of poison) if (dead.has(`${p.topic}/${p.offset}`)) found.add(poisonKey(p));
    if (found.size === poison.length || Date.now() > until) return found;
  }
}

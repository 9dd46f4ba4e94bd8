// Roles with STACKL_SCHEMA_REGISTRY_URL set, against a real Apicurio Registry of this file's own
// (through a TCP proxy, so the registry can be cut like a network would cut it): schemas are
// registered at start under `<topic>-value` with BACKWARD compatibility, every record is written
// in Confluent framing with the registered id and is readable by the Confluent client library,
// records written without a registry still read, a registry that is away is waited for (never a
// dead letter), an unknown id is dead-lettered with the partition moving on, and a schema the
// registry refuses stops the role at start with the subject and the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import registryClient from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import type { Schema } from 'avsc';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import { ServiceUnavailableError } from '../../../core/errors.js';
import { startApicurio, type RunningApicurio } from '../../../deploy/local/apicurio.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { submitMessage } from '../../../processors/broker/request-messages.js';
import { startProjector, type RunningProjector } from '../../../processors/projection/projector.js';
import { toAvroValue } from '../../../schemas/avro-value.js';
import { confluentHeader } from '../../../schemas/framing.js';
import { createCodec, registryIdOf, taskRequestSchema, type EnvelopeName } from '../../../schemas/index.js';
import { parseOptions } from '../../../schemas/logical-types.js';
import { DLQ_HEADERS } from '../../../topics/dead-letter.js';
import { topicNames, type TopicNames } from '../../../topics/names.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { registerTopicSchemas, registrySubjects } from '../../../topics/schema-registration.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { readFor, testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { probePayloadOf, rawSubmit } from '../../support/raw-requests.js';
import { freePort } from '../../support/ports.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { TcpProxy } from '../../support/tcp-proxy.js';

const { SchemaRegistry, SchemaType, COMPATIBILITY } = registryClient;
const probe = (outcome: 'succeed' | 'fail' = 'succeed') => ({ kind: 'probe', action: 'run', payload: { outcome, durationMs: 10 }, timeoutMs: 20_000, maxAttempts: 1 }) as const;

const kafka = testKafka();
const home = mkdtempSync(join(tmpdir(), 'stackl-registry-'));
let apicurio: RunningApicurio | undefined;
let proxy: TcpProxy;
let url: string;
let config: StacklConfig;
let topics: TopicNames;
let broker: RunningLifecycleApp | undefined;
let worker: Worker | undefined;
let projector: RunningProjector | undefined;
let client: KafkaBrokerClient;
let log: EventLog;
const producer = kafka.producer();

beforeAll(async () => {
  apicurio = await startApicurio({ port: await freePort(), managementPort: await freePort(), home, cacheDir: loadConfig().cacheDir });
  const direct = new URL(apicurio.url);
  proxy = new TcpProxy({ host: '127.0.0.1', port: Number(direct.port) });
  await proxy.start();
  url = `http://127.0.0.1:${proxy.port}${direct.pathname}`;
  config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('registry'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: uniqueSchema('registry'), STACKL_SCHEMA_REGISTRY_URL: url });
  topics = topicNames(config.topicPrefix);
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: '4' });
  projector = await startProjector(config);
  client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
  log = new EventLog(kafka, topics.events);
  await Promise.all([log.start(), producer.connect()]);
});

afterAll(async () => {
  await Promise.all([worker?.stop(), log?.stop(), client?.close(), producer.disconnect()]);
  await Promise.all([broker?.stop(), projector?.stop()]);
  await proxy?.close();
  await apicurio?.stop();
  rmSync(home, { recursive: true, force: true });
  if (config !== undefined) await dropSchema(config.databaseSchema);
});

async function registryGet(path: string): Promise<unknown> {
  const response = await fetch(`${url}${path}`);
  expect(response.status, `GET ${path}`).toBe(200);
  return response.json();
}

async function projectedStatus(taskId: string): Promise<string | undefined> {
  const db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  try {
    const { rows } = await db.query<{ status: string }>(`select status from ${config.databaseSchema}.tasks where id = $1`, [taskId]);
    return rows[0]?.status;
  } finally {
    await db.end();
  }
}

const completed = (types: string[]) => types.includes('TaskCompleted');

describe('roles with a schema registry (Apicurio, Confluent-compatible API)', () => {
  it('registers every topic schema under <topic>-value, BACKWARD, with the ids this process writes', async () => {
    const subjects = (await registryGet('/subjects')) as string[];
    for (const { subject, envelope } of registrySubjects(config.topicPrefix)) {
      expect(subjects).toContain(subject);
      expect(await registryGet(`/config/${subject}`)).toMatchObject({ compatibilityLevel: 'BACKWARD' });
      const latest = (await registryGet(`/subjects/${subject}/versions/latest`)) as { id: number };
      expect(latest.id, subject).toBe(registryIdOf(envelope));
    }
  });

  it('runs a task with every record in Confluent framing, each readable by the Confluent client library', { timeout: 120_000 }, async () => {
    const { taskId } = await client.submit(probe());
    await log.waitFor(taskId, completed);
    await expect.poll(() => projectedStatus(taskId), { timeout: 20_000 }).toBe('Completed');

    const thirdParty = new SchemaRegistry({ host: url });
    const carried: [string, EnvelopeName][] = [
      [topics.requests, 'TaskRequest'],
      [topics.dispatch, 'TaskDispatch'],
      [topics.results, 'TaskResult'],
      [topics.events, 'TaskEvent'],
    ];
    for (const [topic, envelope] of carried) {
      const records = (await readFor(kafka, topic, 2_000)).filter((r) => r.message.key?.toString() === taskId);
      expect(records.length, topic).toBeGreaterThan(0);
      for (const { message } of records) {
        const value = message.value as Buffer;
        expect(value[0], topic).toBe(0);
        expect(value.readUInt32BE(1), topic).toBe(registryIdOf(envelope));
        const decoded = (await thirdParty.decode(value)) as { taskId: string };
        expect(decoded.taskId).toBe(taskId);
      }
    }
  });

  it('reads a submission written without a registry (single-object encoding)', async () => {
    const message = submitMessage(probe());
    const value = createCodec().encode(taskRequestSchema, message);
    expect(value.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    await producer.send({ topic: topics.requests, messages: [{ key: message.taskId, value, partition: partitionForKey(message.taskId, config.partitions) }] });
    await log.waitFor(message.taskId, completed);
  });

  it('waits for a registry that is away when it meets an id it has not read yet, then reads the record (a newer writer schema), dead-lettering nothing', { timeout: 120_000 }, async () => {
    // A newer TaskRequest: one more field, with a default (a compatible change), under an id of its own.
    const newer = structuredClone(taskRequestSchema.avroSchema) as { fields: object[] };
    newer.fields.push({ name: 'note', type: ['null', 'string'], default: null });
    const { id } = await new SchemaRegistry({ host: url }).register({ type: SchemaType.AVRO, schema: JSON.stringify(newer) }, { subject: `${config.topicPrefix}newer-writer-value`, compatibility: COMPATIBILITY.BACKWARD });
    expect(id).not.toBe(registryIdOf('TaskRequest'));
    const writer = avro.Type.forSchema(newer as Schema, parseOptions());
    const message = submitMessage(probe());
    const body = writer.toBuffer({ ...(toAvroValue(taskRequestSchema, message) as object), note: 'written by a newer producer' });

    proxy.refuse(6_000);
    proxy.dropAll();
    await producer.send({ topic: topics.requests, messages: [{ key: message.taskId, value: Buffer.concat([confluentHeader(id), body]), partition: partitionForKey(message.taskId, config.partitions) }] });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(proxy.refusing).toBe(true);
    expect(log.types(message.taskId)).toEqual([]);

    await log.waitFor(message.taskId, completed, 40_000);
    const letters = (await readFor(kafka, topics.dlq, 2_000)).filter((r) => r.message.key?.toString() === message.taskId);
    expect(letters).toEqual([]);
  });

  it('dead-letters a record naming an id the registry does not have, with its origin, and the partition moves on', { timeout: 120_000 }, async () => {
    const message = submitMessage(probe());
    const partition = partitionForKey(message.taskId, config.partitions);
    const value = Buffer.concat([confluentHeader(987_654), createCodec().encode(taskRequestSchema, message).subarray(10)]);
    await producer.send({ topic: topics.requests, messages: [{ key: message.taskId, value, partition }] });
    const after = await Promise.all(Array.from({ length: 6 }, () => client.submit(probe())));
    await Promise.all(after.map(({ taskId }) => log.waitFor(taskId, completed)));

    await expect
      .poll(async () => (await readFor(kafka, topics.dlq, 1_500)).filter((r) => r.message.key?.toString() === message.taskId).map((r) => ({
        code: r.message.headers?.[DLQ_HEADERS.code]?.toString(),
        topic: r.message.headers?.[DLQ_HEADERS.topic]?.toString(),
        partition: r.message.headers?.[DLQ_HEADERS.partition]?.toString(),
      })), { timeout: 20_000 })
      .toEqual([{ code: 'DECODE_UNKNOWN_SCHEMA', topic: topics.requests, partition: String(partition) }]);
    expect(log.types(message.taskId)).toEqual([]);
  });

  it('refuses hostile submissions in Confluent framing as it does without a registry, and keeps deciding', { timeout: 120_000 }, async () => {
    const send = async (overrides: Parameters<typeof rawSubmit>[1]) => {
      const taskId = uuidV7();
      const value = rawSubmit(taskId, overrides);
      expect(value.readUInt32BE(1)).toBe(registryIdOf('TaskRequest'));
      await producer.send({ topic: topics.requests, messages: [{ key: taskId, value, partition: partitionForKey(taskId, config.partitions) }] });
      return taskId;
    };
    const internal = await send({ origin: { type: 'topic', target: topics.events } });
    const offsets = await send({ origin: { type: 'topic', target: '__consumer_offsets' } });
    // Exactly the limit, and one byte over it.
    const atLimit = await send({ payload: probePayloadOf(config.maxPayloadBytes) });
    const over = await send({ payload: probePayloadOf(config.maxPayloadBytes + 1) });
    const deep = await send({ payload: `{"data":${'['.repeat(20_000)}${']'.repeat(20_000)}}` });
    const rejected = (types: string[]) => types.includes('TaskRejected');
    for (const taskId of [internal, offsets, over, deep]) await log.waitFor(taskId, rejected, 40_000);
    await log.waitFor(atLimit, completed, 40_000);
    const codeOf = async (taskId: string) => ((await log.waitFor(taskId, rejected)).find((e) => e.type === 'TaskRejected')?.body as { code: string }).code;
    expect(await codeOf(over)).toBe('PAYLOAD_TOO_LARGE');
    expect(await codeOf(deep)).toBe('INVALID_PAYLOAD');
    // And the partitions keep deciding.
    const { taskId } = await client.submit(probe());
    await log.waitFor(taskId, completed, 40_000);
  });

  it('refuses to start a role, naming the subject and the reason, when the registry holds an incompatible schema', async () => {
    const prefix = uniquePrefix('registry-clash');
    const subject = `${prefix}task.events-value`;
    const squatter = { type: 'record', name: 'TaskEvent', namespace: 'stackl.v1', fields: [{ name: 'eventId', type: 'string' }] };
    await new SchemaRegistry({ host: url }).register({ type: SchemaType.AVRO, schema: JSON.stringify(squatter) }, { subject, compatibility: COMPATIBILITY.BACKWARD });
    const clashing = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: prefix, STACKL_SCHEMA_REGISTRY_URL: url });
    await expect(startLifecycleApp(clashing)).rejects.toThrow(new RegExp(`refuses stackl\\.v1\\.TaskEvent for subject ${subject.replaceAll('.', '\\.')}: it is not BACKWARD compatible`));
    // Nothing was written with it: this process still writes with its own deployment's ids.
    expect(registryIdOf('TaskEvent')).toBe(((await registryGet(`/subjects/${config.topicPrefix}task.events-value/versions/latest`)) as { id: number }).id);
  });

  it('refuses a subject set to another compatibility than BACKWARD, saying so', async () => {
    const prefix = uniquePrefix('registry-none');
    const subject = `${prefix}task.requests-value`;
    const response = await fetch(`${url}/config/${subject}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'NONE' }) });
    expect(response.status).toBe(200);
    await expect(registerTopicSchemas(url, prefix)).rejects.toThrow(`subject ${subject} is not set to BACKWARD compatibility`);
  });

  it('rides out a registry that is away for a moment at start, and names one that stays away', async () => {
    proxy.refuse(2_000);
    proxy.dropAll();
    const began = Date.now();
    const registered = await registerTopicSchemas(url, uniquePrefix('registry-blip'));
    expect(Date.now() - began).toBeGreaterThanOrEqual(1_500);
    expect(registered.map((r) => r.id)).toEqual(registrySubjects(config.topicPrefix).map((s) => registryIdOf(s.envelope)));

    proxy.refuse(8_000);
    proxy.dropAll();
    const away = registerTopicSchemas(url, uniquePrefix('registry-away'), 2_000);
    await expect(away).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(away).rejects.toThrow(`schema registry ${url} did not answer for 2 s`);
  });

  it('gives up on a request a registry takes and never answers, instead of waiting for ever', { timeout: 60_000 }, async () => {
    // The proxy accepts again (the case before left it refusing for a while), and then passes no byte.
    await expect.poll(() => proxy.refusing, { timeout: 15_000 }).toBe(false);
    proxy.dropAll();
    proxy.stall(40_000);
    const began = Date.now();
    const stalled = registerTopicSchemas(url, uniquePrefix('registry-stalled'), 2_000);
    await expect(stalled).rejects.toThrow(/did not answer for 2 s.*Timeout \(10000ms\)/);
    // Cut by the request's own 10 s timeout, well before the stall ends.
    expect(Date.now() - began).toBeLessThan(25_000);
    proxy.stalledUntil = 0;
  });
});

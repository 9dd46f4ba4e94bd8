// The admin step on a real broker: creates the catalogue with the configured
// durability, is harmless when run again, and refuses to start when what exists
// contradicts the catalogue, listing every difference (also through `stackl topics`).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, TopicMismatchError } from '../../topics/admin.js';
import kafkajs from 'kafkajs';
import { DEFAULT_MAX_MESSAGE_BYTES, loadConfig } from '../../core/config.js';
import { catalogue, catalogueFor } from '../../topics/catalogue.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames } from '../../topics/names.js';
import { createTopic, testKafka } from '../support/kafka.js';
import { uniquePrefix } from '../support/names.js';

// kafkajs is CommonJS and Node cannot see this export by name.
const { ConfigResourceTypes } = kafkajs;
const kafka = testKafka();
const admin = kafka.admin();

beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

describe('ensureTopics', () => {
  it('creates every topic of the catalogue with its partitions and policy, then only verifies', async () => {
    const specs = catalogue({ prefix: uniquePrefix('admin'), partitions: 3 });
    const first = await ensureTopics(admin, specs);
    expect(first.created.sort()).toEqual(specs.map((s) => s.name).sort());
    expect(first.verified).toEqual([]);

    const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
    // Every topic but the kind registry, which is one partition read whole.
    for (const topic of metadata.topics) expect([topic.name, topic.partitions.length]).toEqual([topic.name, topic.name.endsWith('task.kinds') ? 1 : 3]);

    const second = await ensureTopics(admin, specs);
    expect(second.created).toEqual([]);
    expect(second.verified.sort()).toEqual(specs.map((s) => s.name).sort());
  });

  it('creates only what is missing when some topics already exist', async () => {
    const prefix = uniquePrefix('admin-partial');
    const specs = catalogue({ prefix, partitions: 2 });
    await createTopic(kafka, topicNames(prefix).events, 2, { 'retention.ms': '-1' });
    const report = await ensureTopics(admin, specs);
    expect(report.verified).toEqual([topicNames(prefix).events]);
    expect(report.created).toHaveLength(specs.length - 1);
  });

  it('refuses a co-partitioned topic whose partition count differs, naming it and the fix', async () => {
    const prefix = uniquePrefix('admin-partitions');
    await createTopic(kafka, topicNames(prefix).results, 4);
    const specs = catalogue({ prefix, partitions: 3 });
    const error = await ensureTopics(admin, specs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TopicMismatchError);
    expect((error as TopicMismatchError).code).toBe('TOPIC_MISMATCH');
    expect((error as Error).message).toContain(`${topicNames(prefix).results} has 4 partitions, the catalogue says 3`);
    expect((error as Error).message).toContain('STACKL_PARTITIONS');
    // Refusing means creating nothing: the rest of the catalogue is still absent.
    const existing = await admin.listTopics();
    expect(existing).not.toContain(topicNames(prefix).requests);
  });

  it('refuses a topic whose cleanup policy differs from the catalogue', async () => {
    const prefix = uniquePrefix('admin-policy');
    await createTopic(kafka, topicNames(prefix).events, 3, { 'cleanup.policy': 'compact' });
    const error = await ensureTopics(admin, catalogue({ prefix, partitions: 3 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TopicMismatchError);
    expect((error as Error).message).toContain(`${topicNames(prefix).events} has cleanup.policy=compact, the catalogue says delete`);
  });

  it('sizes every topic to hold any record of a task, and raises an existing smaller limit, keeping the other overrides', async () => {
    const prefix = uniquePrefix('admin-size');
    const names = topicNames(prefix);
    await createTopic(kafka, names.events, 3, { 'retention.ms': '-1', 'max.message.bytes': '1000000' });
    const specs = catalogue({ prefix, partitions: 3, maxMessageBytes: 3_000_000 });
    const report = await ensureTopics(admin, specs);
    expect(report.raised).toEqual([names.events]);
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [names.events, names.requests, names.dlq].map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) });
    const config = (topic: string, key: string) => described.resources.find((r) => r.resourceName === topic)?.configEntries.find((e) => e.configName === key)?.configValue;
    expect([config(names.events, 'max.message.bytes'), config(names.events, 'retention.ms')]).toEqual(['3000000', '-1']);
    expect(config(names.requests, 'max.message.bytes')).toBe('3000000');
    expect(config(names.dlq, 'max.message.bytes')).toBe(String(3_000_000 + 64 * 1024));
    expect((await ensureTopics(admin, specs)).raised).toEqual([]);
  });

  it('refuses a reply prefix that covers STACKL topics', () => {
    const config = loadConfig({ STACKL_TOPIC_PREFIX: 'app.', STACKL_REPLY_TOPIC_PREFIX: 'app.task.' });
    expect(() => catalogueFor(config)).toThrow(/STACKL_REPLY_TOPIC_PREFIX "app.task." covers STACKL's own topics/);
    expect(() => catalogueFor(loadConfig({ STACKL_TOPIC_PREFIX: 'app.' }))).not.toThrow();
  });
});

/** `stackl <args>` as an operator runs it: exit code, stdout and stderr. */
function stackl(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/cli/main.ts', ...args], { env: { ...process.env, STACKL_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('topic durability', () => {
  const describeTopics = async (topics: string[]) => {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) });
    return (topic: string, key: string) => described.resources.find((r) => r.resourceName === topic)?.configEntries.find((e) => e.configName === key)?.configValue;
  };
  const rightSize = { 'max.message.bytes': String(DEFAULT_MAX_MESSAGE_BYTES) };

  it('lists every mismatch of topics made wrongly by hand at once, each named, and changes nothing', { timeout: 90_000 }, async () => {
    const env = { STACKL_TOPIC_PREFIX: uniquePrefix('admin-mismatch'), STACKL_PARTITIONS: '3', STACKL_DLQ_RETENTION_MS: '7200000' };
    const names = topicNames(env.STACKL_TOPIC_PREFIX);
    const week = String(7 * 24 * 3600 * 1000);
    await createTopic(kafka, names.requests, 2, { ...rightSize, 'retention.ms': week });
    await createTopic(kafka, names.results, 3, { ...rightSize, 'retention.ms': '3600000' });
    await createTopic(kafka, names.dispatch, 3, { ...rightSize, 'retention.ms': week, 'cleanup.policy': 'compact' });
    await createTopic(kafka, names.events, 3, { 'retention.ms': '3600000', 'max.message.bytes': '1000000' });
    await createTopic(kafka, names.dlq, 3, { 'retention.ms': '7200000', 'max.message.bytes': String(DEFAULT_MAX_MESSAGE_BYTES + 64 * 1024), 'min.insync.replicas': '2' });
    const expected = [
      `${names.requests} has 2 partitions, the catalogue says 3 (co-partitioned topics must all match; adding partitions remaps tasks, so use the existing count in STACKL_PARTITIONS or a new STACKL_TOPIC_PREFIX)`,
      `${names.results} has retention.ms=3600000, the catalogue says ${week}`,
      `${names.dispatch} has cleanup.policy=compact, the catalogue says delete`,
      `${names.events} has retention.ms=3600000, STACKL_EVENTS_RETENTION_MS says -1`,
      `${names.events} has max.message.bytes=1000000, STACKL needs at least ${DEFAULT_MAX_MESSAGE_BYTES} (STACKL_MAX_MESSAGE_BYTES)`,
      `${names.dlq} has min.insync.replicas=2, STACKL needs 1 (its replication factor − 1, at least 1; STACKL_MIN_INSYNC_REPLICAS chooses another)`,
    ];

    const error = await ensureTopics(admin, catalogueFor(loadConfig(env))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TopicMismatchError);
    expect((error as TopicMismatchError).details.problems).toEqual(expected);
    // A refusal changes nothing: the size limit stays, the missing topics stay missing.
    expect((await describeTopics([names.events]))(names.events, 'max.message.bytes')).toBe('1000000');
    expect(await admin.listTopics()).not.toContain(names.agentJobs);

    // The operator's view: `stackl topics` fails listing each one; `--check` prints them and what is missing.
    const run = await stackl(['topics'], env);
    expect(run.code).toBe(1);
    for (const problem of expected) expect(run.stderr).toContain(`\n  - ${problem}`);
    const check = await stackl(['topics', '--check'], env);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout)).toEqual({ missing: [names.rollbacks, names.notifications, changelogTopic(env.STACKL_TOPIC_PREFIX, LIFECYCLE_APP, LIFECYCLE_TABLE), names.agentJobs, names.agentReplies, names.kinds], problems: expected });
  });

  it('reports a topic with fewer replicas than STACKL_REPLICATION_FACTOR, and a min ISR below replication − 1', async () => {
    // More than the cluster has, and at least 3 so the default min ISR (2) differs from Kafka's (1).
    const wanted = Math.max(3, (await admin.describeCluster()).brokers.length + 1);
    const env = { STACKL_TOPIC_PREFIX: uniquePrefix('admin-replicas'), STACKL_PARTITIONS: '3', STACKL_REPLICATION_FACTOR: String(wanted) };
    const names = topicNames(env.STACKL_TOPIC_PREFIX);
    await createTopic(kafka, names.events, 3, { ...rightSize, 'retention.ms': '-1', 'min.insync.replicas': String(wanted - 1) });
    await createTopic(kafka, names.requests, 3, { ...rightSize, 'retention.ms': String(7 * 24 * 3600 * 1000) });
    const error = await ensureTopics(admin, catalogueFor(loadConfig(env))).catch((e: unknown) => e);
    expect((error as TopicMismatchError).details.problems).toEqual([
      `${names.requests} has replication factor 1, STACKL_REPLICATION_FACTOR says ${wanted} (add replicas with kafka-reassign-partitions)`,
      `${names.requests} has min.insync.replicas=1, STACKL needs ${wanted - 1} (its replication factor − 1, at least 1; STACKL_MIN_INSYNC_REPLICAS chooses another)`,
      `${names.events} has replication factor 1, STACKL_REPLICATION_FACTOR says ${wanted} (add replicas with kafka-reassign-partitions)`,
    ]);
  });

  it('creates topics with the configured retentions and min ISR, and refuses replicas the cluster cannot hold', async () => {
    const env = { STACKL_TOPIC_PREFIX: uniquePrefix('admin-durable'), STACKL_PARTITIONS: '2', STACKL_EVENTS_RETENTION_MS: '864000000', STACKL_DLQ_RETENTION_MS: '7200000', STACKL_MIN_INSYNC_REPLICAS: '1' };
    const names = topicNames(env.STACKL_TOPIC_PREFIX);
    const specs = catalogueFor(loadConfig(env));
    expect((await ensureTopics(admin, specs)).created).toHaveLength(specs.length);
    const config = await describeTopics([names.events, names.dlq, names.requests]);
    expect([config(names.events, 'retention.ms'), config(names.dlq, 'retention.ms'), config(names.requests, 'min.insync.replicas')]).toEqual(['864000000', '7200000', '1']);
    expect((await ensureTopics(admin, specs)).verified).toHaveLength(specs.length);

    const brokers = (await admin.describeCluster()).brokers.length;
    const tooMany = { STACKL_TOPIC_PREFIX: uniquePrefix('admin-too-many'), STACKL_REPLICATION_FACTOR: String(brokers + 1) };
    await expect(ensureTopics(admin, catalogueFor(loadConfig(tooMany)))).rejects.toThrow(`STACKL_REPLICATION_FACTOR is ${brokers + 1} but the cluster has ${brokers} broker`);
    const isrTooHigh = { STACKL_TOPIC_PREFIX: uniquePrefix('admin-isr'), STACKL_MIN_INSYNC_REPLICAS: String(Math.min(3, brokers) + 1) };
    await expect(ensureTopics(admin, catalogueFor(loadConfig(isrTooHigh))).catch((e: unknown) => e)).resolves.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('STACKL_MIN_INSYNC_REPLICAS') });
    expect((await admin.listTopics()).filter((t) => t.startsWith(tooMany.STACKL_TOPIC_PREFIX) || t.startsWith(isrTooHigh.STACKL_TOPIC_PREFIX))).toEqual([]);
  });
});

// The admin step on a real broker: creates the catalogue, is harmless when run
// again, and refuses to start when what exists contradicts the catalogue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, TopicMismatchError } from '../../topics/admin.js';
import kafkajs from 'kafkajs';
import { loadConfig } from '../../core/config.js';
import { catalogue, catalogueFor } from '../../topics/catalogue.js';
import { topicNames } from '../../topics/names.js';
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
    for (const topic of metadata.topics) expect(topic.partitions).toHaveLength(3);

    const second = await ensureTopics(admin, specs);
    expect(second.created).toEqual([]);
    expect(second.verified.sort()).toEqual(specs.map((s) => s.name).sort());
  });

  it('creates only what is missing when some topics already exist', async () => {
    const prefix = uniquePrefix('admin-partial');
    const specs = catalogue({ prefix, partitions: 2 });
    await createTopic(kafka, topicNames(prefix).events, 2);
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

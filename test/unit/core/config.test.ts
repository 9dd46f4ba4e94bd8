import { describe, expect, it } from 'vitest';
import { loadConfig, PINNED_KAFKA_VERSION, recordBytesNeeded } from '../../../core/config.js';
import { ConfigError } from '../../../core/errors.js';
import { maskUrl } from '../../../core/secret.js';

describe('loadConfig', () => {
  it('defaults to the whole stack on this machine', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      kafkaBrokers: ['127.0.0.1:9092'],
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/stackl',
      databaseSchema: 'stackl',
      environmentSchema: 'stackl_env',
      redisUrl: 'redis://127.0.0.1:6379',
      topicPrefix: 'stackl.',
      partitions: 6,
      kafkaVersion: PINNED_KAFKA_VERSION,
      kafkaHeap: '512m',
      explicit: { kafka: false, database: false, redis: false },
    });
  });

  it('takes every address from the environment', () => {
    const config = loadConfig({
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      DATABASE_URL: 'postgresql://u:p@db:5433/x',
      REDIS_URL: 'redis://cache:6380',
      STACKL_PARTITIONS: '12',
    });
    expect(config.kafkaBrokers).toEqual(['k1:9092', 'k2:9093']);
    expect(config.databaseUrl).toBe('postgresql://u:p@db:5433/x');
    expect(config.redisUrl).toBe('redis://cache:6380');
    expect(config.partitions).toBe(12);
    expect(config.explicit).toEqual({ kafka: true, database: true, redis: true, rabbitmq: false });
  });

  it.each([
    [{ KAFKA_BROKERS: 'no-port' }, /KAFKA_BROKERS entry "no-port" is not host:port/],
    [{ KAFKA_BROKERS: ' , ' }, /names no broker/],
    [{ DATABASE_URL: 'mysql://x/y' }, /DATABASE_URL must use postgres: or postgresql:/],
    [{ DATABASE_URL: 'not a url' }, /DATABASE_URL is not a URL/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL must use redis: or rediss:/],
    [{ STACKL_PARTITIONS: '0' }, /STACKL_PARTITIONS must be an integer from 1 to 1000/],
    [{ STACKL_PARTITIONS: '2.5' }, /STACKL_PARTITIONS/],
    [{ STACKL_TOPIC_PREFIX: 'bad prefix' }, /STACKL_TOPIC_PREFIX may hold only/],
    [{ STACKL_KAFKA_VERSION: 'latest' }, /STACKL_KAFKA_VERSION must look like/],
    [{ STACKL_DB_SCHEMA: 'Drop;' }, /STACKL_DB_SCHEMA must be a lower-case SQL identifier/],
    [{ STACKL_ENV_SCHEMA: 'stackl' }, /STACKL_ENV_SCHEMA must be a lower-case SQL identifier other than the datastore's schema/],
    [{ STACKL_KAFKA_HEAP: 'lots' }, /STACKL_KAFKA_HEAP/],
    [{ STACKL_KAFKA_CONTROLLER_PORT: '70000' }, /STACKL_KAFKA_CONTROLLER_PORT/],
    [{ STACKL_REPLY_TOPIC_PREFIX: '__consumer_' }, /STACKL_REPLY_TOPIC_PREFIX must be 1 to 200 letters/],
    [{ STACKL_CHANNEL: 'bogus' }, /STACKL_CHANNEL must be one of kafka, redis, rabbitmq, got "bogus"/],
    [{ STACKL_BROKER: 'zookeeper' }, /STACKL_BROKER must be one of kafka, custom, got "zookeeper"/],
    [{ RABBITMQ_URL: 'http://rabbit' }, /RABBITMQ_URL must use amqp: or amqps:/],
    [{ STACKL_LOG_LEVEL: 'loud' }, /STACKL_LOG_LEVEL must be debug, info, warn or error, got "loud"/],
    [{ STACKL_MIGRATE: 'sometimes' }, /STACKL_MIGRATE must be "auto" or "off"/],
    [{ STACKL_REPLY_TOPIC_PREFIX: '' }, /STACKL_REPLY_TOPIC_PREFIX/],
    [{ STACKL_MAX_PAYLOAD_BYTES: 'much' }, /STACKL_MAX_PAYLOAD_BYTES must be a number of bytes/],
    [{ STACKL_REPLICATION_FACTOR: '0' }, /STACKL_REPLICATION_FACTOR must be an integer from 1 to 32767, got "0"/],
    [{ STACKL_MIN_INSYNC_REPLICAS: 'two' }, /STACKL_MIN_INSYNC_REPLICAS must be an integer from 1 to 32767, got "two"/],
    [{ STACKL_REPLICATION_FACTOR: '2', STACKL_MIN_INSYNC_REPLICAS: '3' }, /STACKL_MIN_INSYNC_REPLICAS \(3\) must not exceed STACKL_REPLICATION_FACTOR \(2\): no acks=all write could ever succeed/],
    [{ STACKL_EVENTS_RETENTION_MS: '3600000' }, /STACKL_EVENTS_RETENTION_MS must be -1 \(keep forever\) or a number of milliseconds of at least 604800000/],
    [{ STACKL_DLQ_RETENTION_MS: '-2' }, /STACKL_DLQ_RETENTION_MS must be -1 \(keep forever\) or a number of milliseconds of at least 3600000/],
    [{ STACKL_SHUTDOWN_GRACE_MS: 'soon' }, /STACKL_SHUTDOWN_GRACE_MS must be a number of milliseconds from 0 to 3600000, got "soon"/],
    [{ STACKL_SCHEMA_REGISTRY_URL: 'registry:8081' }, /STACKL_SCHEMA_REGISTRY_URL/],
    [{ STACKL_SCHEMA_REGISTRY_URL: 'ftp://127.0.0.1/x' }, /STACKL_SCHEMA_REGISTRY_URL/],
    [{ STACKL_MAX_PAYLOAD_BYTES: '1048576' }, /STACKL_MAX_MESSAGE_BYTES \(2097152\) must be at least 2 × \(STACKL_MAX_PAYLOAD_BYTES \+ STACKL_MAX_OUTPUT_BYTES\) \+ 65536 = 2686976/],
  ])('refuses %o with a message naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('uses a schema registry only when named, without a trailing slash', () => {
    expect(loadConfig({}).schemaRegistryUrl).toBeUndefined();
    expect(loadConfig({ STACKL_SCHEMA_REGISTRY_URL: '' }).schemaRegistryUrl).toBeUndefined();
    expect(loadConfig({ STACKL_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7/' }).schemaRegistryUrl).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
  });

  it('sizes records from the payload and output limits, with replies under a prefix of their own', () => {
    const config = loadConfig({ STACKL_TOPIC_PREFIX: 'app.' });
    expect(config).toMatchObject({ replyTopicPrefix: 'app.reply.', maxPayloadBytes: 262_144, maxOutputBytes: 262_144, maxMessageBytes: 2_097_152 });
    expect(recordBytesNeeded(config)).toBeLessThanOrEqual(config.maxMessageBytes);
    expect(loadConfig({ STACKL_MAX_PAYLOAD_BYTES: '1048576', STACKL_MAX_MESSAGE_BYTES: '4000000' }).maxPayloadBytes).toBe(1_048_576);
  });

  it('keeps the audit log forever and derives replicas from the cluster unless told otherwise', () => {
    expect(loadConfig({})).toMatchObject({ durability: { eventsRetentionMs: -1, dlqRetentionMs: 90 * 24 * 3600 * 1000 }, shutdownGraceMs: 30_000 });
    expect(loadConfig({}).durability).not.toHaveProperty('replicationFactor');
    expect(loadConfig({}).durability).not.toHaveProperty('minInsyncReplicas');
    const set = loadConfig({ STACKL_REPLICATION_FACTOR: '3', STACKL_MIN_INSYNC_REPLICAS: '3', STACKL_EVENTS_RETENTION_MS: '604800000', STACKL_DLQ_RETENTION_MS: '-1', STACKL_SHUTDOWN_GRACE_MS: '0' });
    expect(set).toMatchObject({ durability: { replicationFactor: 3, minInsyncReplicas: 3, eventsRetentionMs: 604_800_000, dlqRetentionMs: -1 }, shutdownGraceMs: 0 });
  });

  it.each([
    ['DATABASE_URL', 'postgres://stackl:hunter2@db host:5432/stackl', 'postgres://stackl:***@db host:5432/stackl'],
    ['DATABASE_URL', 'postgres://stackl:hun@ter2@[db:5432/stackl', 'postgres://stackl:***@[db:5432/stackl'],
    ['REDIS_URL', 'redis://:hunter2@cache host:6379', 'redis://:***@cache host:6379'],
    ['REDIS_URL', 'redis://hunter2@[cache', 'redis://***@[cache'],
  ])('masks the password of a %s that does not parse', (name, url, shown) => {
    expect(() => loadConfig({ [name]: url })).toThrow(`${name} is not a URL: "${shown}"`);
    expect(() => loadConfig({ [name]: url })).not.toThrow(/hunter2|ter2/);
  });
});

describe('maskUrl', () => {
  it('leaves a URL without a user part alone and masks through the last @', () => {
    expect(maskUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(maskUrl('postgres://u:p@h/db')).toBe('postgres://u:***@h/db');
    expect(maskUrl('u:p@h')).toBe('u:***@h');
  });
});

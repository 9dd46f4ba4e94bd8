// Starts the `custom` broker for a deployment: the same lifecycle processor and defaults
// as the Kafka broker (lifecycle-app.ts), on PostgreSQL, with the relay of its channel.
// No Kafka is involved: replies to Kafka topics are not possible here (the processor
// records them undelivered), and webhook orders wait in the outbox (no notifier yet).
import { channelNameFrom, type StacklConfig } from '../../../core/config.js';
import { ConfigError } from '../../../core/errors.js';
import { RabbitOutboxRelay } from '../../../channels/rabbitmq-outbox-relay.js';
import { RedisOutboxRelay } from '../../../channels/redis-outbox-relay.js';
import { KafkaOutboxRelay } from '../../../channels/kafka-outbox-relay.js';
import { ensureTopics } from '../../../topics/admin.js';
import { catalogueFor } from '../../../topics/catalogue.js';
import { createKafka } from '../../../topics/kafka.js';
import { originTopicsFrom } from '../kafka/origin-topics.js';
import { consumerGroup, topicNames } from '../../../topics/names.js';
import { createKindRegistry, defaultLifecycleDefaults, lifecycleLimitsOf, type KindRegistry, type LifecycleDefaults } from '../../lifecycle/index.js';
import { lifecycleProcessor } from '../kafka/lifecycle-processor.js';
import { DEFAULT_IDEMPOTENCY_WINDOW_MS } from '../kafka/lifecycle-app.js';
import { CustomBroker } from './custom-broker.js';
import { TableKinds } from '../../registry/table-kinds.js';
import pg from 'pg';
import { useConfiguredWireFormat } from '../../../topics/schema-registration.js';

export interface CustomBrokerAppOptions {
  defaults?: Partial<LifecycleDefaults>;
  kinds?: KindRegistry;
  idempotencyWindowMs?: number;
  claimIntervalMs?: number;
}

/** What sends the broker's outbox to its channel and brings results back. */
export interface OutboxRelay {
  start(): Promise<void>;
  wake(): void;
  stop(): Promise<void>;
}

export interface RunningCustomBroker {
  broker: CustomBroker;
  relay: OutboxRelay;
  stop(): Promise<void>;
}

export async function startCustomBroker(config: StacklConfig, options: CustomBrokerAppOptions = {}, env: Record<string, string | undefined> = process.env): Promise<RunningCustomBroker> {
  await useConfiguredWireFormat(config);
  const channel = channelNameFrom(env);
  const common = { databaseUrl: config.databaseUrl, schema: config.databaseSchema, prefix: config.topicPrefix, partitions: config.partitions };
  let relay: OutboxRelay | undefined;
  if (channel === 'rabbitmq') relay = new RabbitOutboxRelay({ ...common, rabbitmqUrl: config.rabbitmqUrl });
  else if (channel === 'redis') relay = new RedisOutboxRelay({ ...common, redisUrl: config.redisUrl });
  const topics = topicNames(config.topicPrefix);
  // With Kafka as its channel, Kafka is there: orders and replies go to its topics.
  const kafka = channel === 'kafka' ? createKafka(config, 'stackl-custom-broker') : undefined;
  const admin = kafka?.admin();
  if (kafka !== undefined && admin !== undefined) {
    await admin.connect();
    await ensureTopics(admin, catalogueFor(config));
    relay = new KafkaOutboxRelay({ kafka, databaseUrl: config.databaseUrl, schema: config.databaseSchema, topics, partitions: config.partitions, groupId: consumerGroup(config.topicPrefix, 'custom-broker-results') });
  }
  if (relay === undefined) throw new ConfigError(`STACKL_CHANNEL "${channel}" has no relay for the custom broker`, { STACKL_CHANNEL: channel });
  // Fixed kinds (tests), or the registry table that workers write, followed.
  const registry = options.kinds === undefined ? new pg.Pool({ connectionString: config.databaseUrl, max: 2 }) : undefined;
  registry?.on('error', () => {}); // an idle connection lost is replaced on the next reading
  const kinds = registry === undefined ? undefined : new TableKinds(registry, config.databaseSchema);
  try {
    await kinds?.start();
  } catch (error) {
    await registry?.end();
    throw error;
  }
  const broker = new CustomBroker({
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
    partitions: config.partitions,
    topics,
    // Without Kafka no reply topic exists: such a reply is recorded undelivered, with its reason.
    repliesToKafka: admin !== undefined,
    processor: lifecycleProcessor({
      topics,
      originTopics: admin === undefined ? { exists: () => Promise.resolve(false) } : originTopicsFrom(admin),
      ...(kinds === undefined ? {} : { learnKind: (kind: string) => kinds.knows(kind) }),
      decider: { kinds: kinds?.kinds ?? options.kinds ?? createKindRegistry(), defaults: { ...defaultLifecycleDefaults, ...options.defaults }, limits: lifecycleLimitsOf(config) },
    }),
    idempotencyWindowMs: options.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS,
    onOrders: () => relay.wake(),
    ...(options.claimIntervalMs === undefined ? {} : { claimIntervalMs: options.claimIntervalMs }),
  });
  await relay.start();
  try {
    await broker.start();
    await broker.ready();
  } catch (error) {
    await relay.stop().catch(() => {});
    await kinds?.stop();
    await registry?.end();
    throw error;
  }
  return {
    broker,
    relay,
    async stop() {
      await broker.stop();
      await relay.stop();
      await admin?.disconnect();
      await kinds?.stop();
      await registry?.end();
    },
  };
}

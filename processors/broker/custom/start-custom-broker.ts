// Starts the `custom` broker for a deployment: the same lifecycle processor and defaults
// as the Kafka broker (lifecycle-app.ts), on PostgreSQL, with the relay of its channel.
// No Kafka is involved: replies to Kafka topics are not possible here (the processor
// records them undelivered), and webhook orders wait in the outbox (no notifier yet).
import { channelNameFrom, type StacklConfig } from '../../../core/config.js';
import { ConfigError } from '../../../core/errors.js';
import { RabbitOutboxRelay } from '../../../channels/rabbitmq-outbox-relay.js';
import { topicNames } from '../../../topics/names.js';
import { createKindRegistry, defaultLifecycleDefaults, lifecycleLimitsOf, type KindRegistry, type LifecycleDefaults } from '../../lifecycle/index.js';
import { lifecycleProcessor } from '../kafka/lifecycle-processor.js';
import { DEFAULT_IDEMPOTENCY_WINDOW_MS } from '../kafka/lifecycle-app.js';
import { CustomBroker } from './custom-broker.js';

export interface CustomBrokerAppOptions {
  defaults?: Partial<LifecycleDefaults>;
  kinds?: KindRegistry;
  idempotencyWindowMs?: number;
  claimIntervalMs?: number;
}

export interface RunningCustomBroker {
  broker: CustomBroker;
  relay: RabbitOutboxRelay;
  stop(): Promise<void>;
}

export async function startCustomBroker(config: StacklConfig, options: CustomBrokerAppOptions = {}, env: Record<string, string | undefined> = process.env): Promise<RunningCustomBroker> {
  const channel = channelNameFrom(env);
  if (channel !== 'rabbitmq') throw new ConfigError(`STACKL_BROKER=custom works with STACKL_CHANNEL=rabbitmq for now, got "${channel}"`, { STACKL_CHANNEL: channel });
  const topics = topicNames(config.topicPrefix);
  const relay = new RabbitOutboxRelay({ databaseUrl: config.databaseUrl, schema: config.databaseSchema, rabbitmqUrl: config.rabbitmqUrl, prefix: config.topicPrefix, partitions: config.partitions });
  const broker = new CustomBroker({
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
    partitions: config.partitions,
    topics,
    processor: lifecycleProcessor({
      topics,
      // Without Kafka no reply topic exists: such a reply is recorded undelivered, with its reason.
      originTopics: { exists: () => Promise.resolve(false) },
      decider: { kinds: options.kinds ?? createKindRegistry(), defaults: { ...defaultLifecycleDefaults, ...options.defaults }, limits: lifecycleLimitsOf(config) },
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
    throw error;
  }
  return {
    broker,
    relay,
    async stop() {
      await broker.stop();
      await relay.stop();
    },
  };
}

// The `relay` role of the channels behind Kafka (redis, rabbitmq): work orders Kafka →
// channel, results channel → Kafka. One per deployment is enough; more share the
// partitions of the order topics through their consumer group.
import { channelNameFrom, type StacklConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { createKafka } from '../topics/kafka.js';
import { consumerGroup, topicNames } from '../topics/names.js';
import type { OnConsumerStopped } from '../topics/consumer-watch.js';
import { RabbitRelay } from './rabbitmq-relay.js';
import { RedisRelay } from './redis-relay.js';
import { useConfiguredWireFormat } from '../topics/schema-registration.js';

export const RELAY_APP = 'relay';

export interface Relay {
  stop(): Promise<void>;
}

/** The relay of the channel STACKL_CHANNEL names. */
export function startRelay(config: StacklConfig, onFatal?: OnConsumerStopped, env: Record<string, string | undefined> = process.env): Promise<Relay> {
  const channel = channelNameFrom(env);
  if (channel === 'redis') return startRedisRelay(config, onFatal);
  if (channel === 'rabbitmq') return startRabbitRelay(config, onFatal);
  throw new ConfigError('the kafka channel needs no relay: workers read Kafka themselves (set STACKL_CHANNEL=redis or rabbitmq)');
}

export async function startRedisRelay(config: StacklConfig, onFatal?: OnConsumerStopped): Promise<RedisRelay> {
  await useConfiguredWireFormat(config);
  const relay = new RedisRelay({ ...relaySettings(config, onFatal), redisUrl: config.redisUrl });
  await relay.start();
  return relay;
}

export async function startRabbitRelay(config: StacklConfig, onFatal?: OnConsumerStopped): Promise<RabbitRelay> {
  await useConfiguredWireFormat(config);
  const relay = new RabbitRelay({ ...relaySettings(config, onFatal), rabbitmqUrl: config.rabbitmqUrl });
  await relay.start();
  return relay;
}

function relaySettings(config: StacklConfig, onFatal: OnConsumerStopped | undefined) {
  return {
    kafka: createKafka(config, 'stackl-relay'),
    prefix: config.topicPrefix,
    topics: topicNames(config.topicPrefix),
    groupId: consumerGroup(config.topicPrefix, RELAY_APP),
    partitions: config.partitions,
    ...(onFatal === undefined ? {} : { onFatal }),
  };
}

// Builds the message channel's primitives for a deployment, on the channel named by
// STACKL_CHANNEL (`kafka`, the default, `redis` or `rabbitmq`), the same setting that
// picks how work reaches workers (workers/start-worker.ts), so one deployment uses one channel.
import { channelNameFrom, type StacklConfig } from '../core/config.js';
import { createKafka } from '../topics/kafka.js';
import { KafkaMessageChannel } from './kafka-message-channel.js';
import type { MessageChannel } from './message-channel.js';
import { RabbitMessageChannel } from './rabbitmq-message-channel.js';
import { RedisMessageChannel } from './redis-message-channel.js';

type Env = Record<string, string | undefined>;

export function messageChannel(config: StacklConfig, env: Env = process.env, clientId = 'stackl-message-channel'): MessageChannel {
  const name = channelNameFrom(env);
  if (name === 'redis') return new RedisMessageChannel({ redisUrl: config.redisUrl, prefix: config.topicPrefix });
  if (name === 'rabbitmq') return new RabbitMessageChannel({ rabbitmqUrl: config.rabbitmqUrl, prefix: config.topicPrefix });
  return new KafkaMessageChannel({
    kafka: createKafka(config, clientId),
    prefix: config.topicPrefix,
    storePartitions: config.partitions,
    durability: config.durability,
  });
}

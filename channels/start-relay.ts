// The `relay` role for the `redis` channel: one per deployment is enough, more share
// the partitions of task.dispatch through their consumer group.
import type { StacklConfig } from '../core/config.js';
import { createKafka } from '../topics/kafka.js';
import { consumerGroup, topicNames } from '../topics/names.js';
import type { OnConsumerStopped } from '../topics/consumer-watch.js';
import { RedisRelay } from './redis-relay.js';

export const RELAY_APP = 'relay';

export async function startRelay(config: StacklConfig, onFatal?: OnConsumerStopped): Promise<RedisRelay> {
  const relay = new RedisRelay({
    kafka: createKafka(config, 'stackl-relay'),
    redisUrl: config.redisUrl,
    prefix: config.topicPrefix,
    topics: topicNames(config.topicPrefix),
    groupId: consumerGroup(config.topicPrefix, RELAY_APP),
    partitions: config.partitions,
    ...(onFatal === undefined ? {} : { onFatal }),
  });
  await relay.start();
  return relay;
}

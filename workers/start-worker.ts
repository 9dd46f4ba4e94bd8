// Builds a worker for a deployment: the channel named by STACKL_CHANNEL and the
// built-in managers. Used by the `stackl worker` role and by `stackl all`.
import type { StacklConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { KafkaWorkChannel } from '../topics/channel/kafka-channel.js';
import { createKafka } from '../topics/kafka.js';
import { consumerGroup, topicNames } from '../topics/names.js';
import { builtInManagers } from './managers/index.js';
import { Worker } from './worker.js';

export const WORKERS_APP = 'workers';

export async function startWorker(config: StacklConfig, env: Record<string, string | undefined> = process.env): Promise<Worker> {
  const channelName = env.STACKL_CHANNEL ?? 'kafka';
  const concurrency = Number(env.STACKL_WORKER_CONCURRENCY ?? 8);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) {
    throw new ConfigError(`STACKL_WORKER_CONCURRENCY must be an integer from 1 to 1000, got "${env.STACKL_WORKER_CONCURRENCY}"`);
  }
  if (channelName !== 'kafka') throw new ConfigError(`STACKL_CHANNEL "${channelName}" is not available yet; use "kafka"`);
  const topics = topicNames(config.topicPrefix);
  const channel = new KafkaWorkChannel({
    kafka: createKafka({ brokers: config.kafkaBrokers, clientId: 'stackl-worker' }),
    dispatchTopic: topics.dispatch,
    resultsTopic: topics.results,
    dlqTopic: topics.dlq,
    groupId: consumerGroup(config.topicPrefix, WORKERS_APP),
    partitions: config.partitions,
    ...(env.STACKL_WORKER_SESSION_TIMEOUT_MS === undefined ? {} : { sessionTimeoutMs: Number(env.STACKL_WORKER_SESSION_TIMEOUT_MS) }),
  });
  const worker = new Worker({ channel, managers: builtInManagers(), concurrency });
  await worker.start();
  return worker;
}

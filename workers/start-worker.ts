// Builds a worker for a deployment: the channel named by STACKL_CHANNEL (`kafka`, or
// `redis` or `rabbitmq` behind a relay) and the built-in managers (the document kind's on a
// PostgreSQL pool the worker closes when it stops). Used by `stackl worker` and `stackl all`.
import pg from 'pg';
import { channelNameFrom, positiveIntFromEnv, type StacklConfig } from '../core/config.js';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../core/log.js';
import type { AgentJobClient } from '../channels/agent-channel.js';
import { KafkaAgentJobClient } from '../channels/kafka-agent-channel.js';
import { KafkaWorkChannel } from '../channels/kafka-channel.js';
import { RabbitAgentJobClient } from '../channels/rabbitmq-agent-channel.js';
import { RabbitWorkChannel } from '../channels/rabbitmq-channel.js';
import { RedisAgentJobClient } from '../channels/redis-agent-channel.js';
import { RedisWorkChannel } from '../channels/redis-channel.js';
import type { WorkChannel } from '../channels/work-channel.js';
import { createKafka } from '../topics/kafka.js';
import { consumerGroup, topicNames } from '../topics/names.js';
import { DocumentStore } from './datastore/document-store.js';
import { builtInManagers } from './managers/index.js';
import { Worker } from './worker.js';
import type { OnConsumerStopped } from '../topics/consumer-watch.js';

export const WORKERS_APP = 'workers';

type Env = Record<string, string | undefined>;

/** `onFatal`: one of the worker's Kafka consumers stopped for good; roles exit so their supervisor restarts them. */
export async function startWorker(config: StacklConfig, env: Env = process.env, onFatal?: OnConsumerStopped): Promise<Worker> {
  const concurrency = positiveInt(env, 'STACKL_WORKER_CONCURRENCY', 8);
  const workerId = `worker-${randomUUID().slice(0, 8)}`;
  const channel = workChannel(config, env, workerId, onFatal);
  const agents = agentClient(config, env, workerId);
  // The document kind's datastore; the pool connects lazily, on the first document task.
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: Math.min(concurrency, 10) });
  pool.on('error', (error) => createLogger({ component: 'worker' }).warn('idle database connection failed', { error }));
  let poolClosed: Promise<void> | undefined;
  const closePool = (): Promise<void> => (poolClosed ??= Promise.allSettled([agents.close(), pool.end()]).then(() => {}));
  const worker = new Worker({
    channel,
    managers: builtInManagers({ documentStore: new DocumentStore(pool, config.databaseSchema), agents }),
    concurrency,
    onStop: closePool,
    workerId,
    maxOutputBytes: config.maxOutputBytes,
    shutdownGraceMs: config.shutdownGraceMs,
  });
  try {
    await worker.start();
  } catch (error) {
    await closePool().catch(() => {});
    throw error;
  }
  return worker;
}

/** The stack kind's way to the agents, over the same kind of channel as the work. */
function agentClient(config: StacklConfig, env: Env, workerId: string): AgentJobClient {
  const channel = channelNameFrom(env);
  if (channel === 'redis') return new RedisAgentJobClient(config.redisUrl, config.topicPrefix, workerId);
  if (channel === 'rabbitmq') return new RabbitAgentJobClient(config.rabbitmqUrl, config.topicPrefix, workerId);
  const topics = topicNames(config.topicPrefix);
  return new KafkaAgentJobClient({
    kafka: createKafka(config, 'stackl-worker-agents'),
    jobsTopic: topics.agentJobs,
    repliesTopic: topics.agentReplies,
    replyTo: workerId,
    groupPrefix: config.topicPrefix,
  });
}

function workChannel(config: StacklConfig, env: Env, workerId: string, onFatal: OnConsumerStopped | undefined): WorkChannel {
  const name = channelNameFrom(env);
  if (name === 'redis') {
    return new RedisWorkChannel({ redisUrl: config.redisUrl, prefix: config.topicPrefix, workerId, leaseMs: positiveInt(env, 'STACKL_WORKER_LEASE_MS', 10_000) });
  }
  if (name === 'rabbitmq') return new RabbitWorkChannel({ rabbitmqUrl: config.rabbitmqUrl, prefix: config.topicPrefix, workerId });
  const topics = topicNames(config.topicPrefix);
  return new KafkaWorkChannel({
    kafka: createKafka(config, 'stackl-worker'),
    dispatchTopic: topics.dispatch,
    rollbacksTopic: topics.rollbacks,
    resultsTopic: topics.results,
    dlqTopic: topics.dlq,
    groupId: consumerGroup(config.topicPrefix, WORKERS_APP),
    partitions: config.partitions,
    sessionTimeoutMs: positiveInt(env, 'STACKL_WORKER_SESSION_TIMEOUT_MS', 30_000),
    ...(onFatal === undefined ? {} : { onFatal }),
  });
}

function positiveInt(env: Env, name: string, fallback: number): number {
  return positiveIntFromEnv(env, name) ?? fallback;
}

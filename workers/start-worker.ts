// Builds a worker for a deployment: the channel named by STACKL_CHANNEL (`kafka`, or
// `redis` or `rabbitmq` behind a relay) and the kinds it serves, registered first. The
// built-in worker (`stackl worker`, `stackl all`) serves the built-in kinds in the default
// pool (the document kind's datastore on a PostgreSQL pool it closes when it stops);
// createWorker (workers/create-worker.ts) serves users' kinds in pools of their own.
import pg from 'pg';
import type { Admin } from 'kafkajs';
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
import { builtInServedKinds } from './managers/index.js';
import type { ServedKind } from './implement.js';
import { ConfigError } from '../core/errors.js';
import { builtInKinds, KIND_NAME_PATTERN } from '../processors/lifecycle/index.js';
import { ensureKindsTopic } from '../processors/registry/follow-kinds.js';
import { registerKinds, registerKindsInTable } from '../processors/registry/kind-registrar.js';
import { Worker } from './worker.js';
import type { OnConsumerStopped } from '../topics/consumer-watch.js';
import { useConfiguredWireFormat } from '../topics/schema-registration.js';

export const WORKERS_APP = 'workers';

type Env = Record<string, string | undefined>;

/** The pool of the built-in worker; its consumer groups keep their first names (`<prefix>workers`). */
export const DEFAULT_POOL = 'default';

/** `onFatal`: one of the worker's Kafka consumers stopped for good; roles exit so their supervisor restarts them. */
export async function startWorker(config: StacklConfig, env: Env = process.env, onFatal?: OnConsumerStopped): Promise<Worker> {
  const concurrency = positiveInt(env, 'STACKL_WORKER_CONCURRENCY', 8);
  const workerId = `worker-${randomUUID().slice(0, 8)}`;
  const agents = agentClient(config, env, workerId);
  // The document kind's datastore; the pool connects lazily, on the first document task.
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: Math.min(concurrency, 10) });
  pool.on('error', (error) => createLogger({ component: 'worker' }).warn('idle database connection failed', { error }));
  return startPoolWorker({
    config,
    env,
    kinds: builtInServedKinds({ documentStore: new DocumentStore(pool, config.databaseSchema), agents }),
    pool: DEFAULT_POOL,
    authoritative: true,
    concurrency,
    workerId,
    onStop: () => Promise.allSettled([agents.close(), pool.end()]).then(() => {}),
    ...(onFatal === undefined ? {} : { onFatal }),
  });
}

export interface PoolWorkerOptions {
  config: StacklConfig;
  env: Env;
  kinds: readonly ServedKind[];
  pool: string;
  concurrency: number;
  workerId?: string;
  /** The built-in kinds: registered to be listed, never refused (kind-registrar.ts). */
  authoritative?: boolean;
  /** Releases what the handlers hold, once the worker stopped (or failed to start). */
  onStop?: () => Promise<void>;
  onFatal?: OnConsumerStopped;
}

/**
 * Registers the pool's kinds, then takes their orders: from the pool's own consumer
 * groups on Kafka, so each pool sees every order and serves its kinds' (docs/worker-protocol.md).
 */
export async function startPoolWorker(options: PoolWorkerOptions): Promise<Worker> {
  const { config, env, pool } = options;
  const workerId = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
  let stopped: Promise<void> | undefined;
  const onStop = (): Promise<void> => (stopped ??= options.onStop?.() ?? Promise.resolve());
  let worker: Worker;
  try {
    checkPool(config, env, options);
    await useConfiguredWireFormat(config);
    if (options.authoritative === true) {
      // The built-in kinds are registered to be listed; brokers never read them from the
      // registry, so a registry out of reach must not keep the built-in worker down.
      await register(config, options, workerId).catch((error: unknown) => createLogger({ component: 'worker', workerId }).warn('could not list the built-in kinds in the kind registry; serving them anyway', { error }));
    } else {
      await register(config, options, workerId);
    }
    worker = new Worker({
      channel: workChannel(config, env, workerId, pool, options.onFatal),
      managers: new Map(options.kinds.map((served) => [served.kind.name, served.manager])),
      concurrency: options.concurrency,
      onStop,
      workerId,
      maxOutputBytes: config.maxOutputBytes,
      shutdownGraceMs: config.shutdownGraceMs,
    });
  } catch (error) {
    await onStop().catch(() => {});
    throw error;
  }
  try {
    await worker.start();
  } catch (error) {
    await onStop().catch(() => {});
    throw error;
  }
  return worker;
}

function checkPool(config: StacklConfig, env: Env, options: PoolWorkerOptions): void {
  if (!KIND_NAME_PATTERN.test(options.pool)) throw new ConfigError(`pool name "${options.pool.slice(0, 80)}" must be 1 to 63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit`);
  const names = options.kinds.map((served) => served.kind.name);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length > 0) throw new ConfigError(`a worker serves each kind once; given twice: ${[...new Set(twice)].join(', ')}`);
  if (options.authoritative === true) return;
  const builtIn = names.filter((name) => Object.hasOwn(builtInKinds, name));
  if (builtIn.length > 0) throw new ConfigError(`${builtIn.join(', ')} ${builtIn.length === 1 ? 'is a built-in kind' : 'are built-in kinds'}: give your kind a name of its own`);
  if (options.pool === DEFAULT_POOL) throw new ConfigError(`the pool "${DEFAULT_POOL}" is the built-in worker's: give your worker a pool of its own`);
  // Redis and RabbitMQ carry every order in one queue: a worker there must serve every kind.
  const channel = channelNameFrom(env);
  if (channel !== 'kafka') throw new ConfigError(`a worker of your own kinds takes its orders from Kafka (STACKL_CHANNEL=kafka); the ${channel} channel carries every order in one queue, which only the built-in worker may read`);
}

async function register(config: StacklConfig, options: PoolWorkerOptions, workerId: string): Promise<void> {
  const common = { kinds: options.kinds.map((s) => s.kind), pool: options.pool, workerId, ...(options.authoritative === undefined ? {} : { authoritative: options.authoritative }) };
  if (config.broker === 'custom') {
    // The custom broker's registry is a table beside its other state.
    const database = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
    try {
      await registerKindsInTable({ ...common, database, schema: config.databaseSchema });
    } finally {
      await database.end();
    }
    return;
  }
  const kafka = createKafka(config, 'stackl-worker-registrar');
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (options.authoritative !== true) await requireOrderTopics(admin, config);
    const topic = await ensureKindsTopic(admin, config);
    await registerKinds({ kafka, admin, topic, groupPrefix: config.topicPrefix, ...common });
  } finally {
    await admin.disconnect();
  }
}

/** A worker of users' kinds started before the system (or on another prefix) is told so, not handed kafkajs' UNKNOWN_TOPIC_OR_PARTITION. */
async function requireOrderTopics(admin: Admin, config: StacklConfig): Promise<void> {
  const topics = topicNames(config.topicPrefix);
  const existing = new Set(await admin.listTopics());
  const missing = [topics.dispatch, topics.rollbacks].filter((topic) => !existing.has(topic));
  if (missing.length > 0) {
    throw new ConfigError(`the topics ${missing.join(' and ')} do not exist on ${config.kafkaBrokers.join(',')}: start the system first (npm start, or stackl broker), or check STACKL_TOPIC_PREFIX ("${config.topicPrefix}")`);
  }
}

/** The consumer group of a pool's run orders; its rollback orders' is `<that>.rollbacks`. */
export function poolGroup(prefix: string, pool: string): string {
  return pool === DEFAULT_POOL ? consumerGroup(prefix, WORKERS_APP) : `${prefix}pool.${pool}`;
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

function workChannel(config: StacklConfig, env: Env, workerId: string, pool: string, onFatal: OnConsumerStopped | undefined): WorkChannel {
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
    groupId: poolGroup(config.topicPrefix, pool),
    partitions: config.partitions,
    sessionTimeoutMs: positiveInt(env, 'STACKL_WORKER_SESSION_TIMEOUT_MS', 30_000),
    ...(onFatal === undefined ? {} : { onFatal }),
  });
}

function positiveInt(env: Env, name: string, fallback: number): number {
  return positiveIntFromEnv(env, name) ?? fallback;
}

// Every address and knob comes from the environment, with defaults that run the
// whole system on this machine. Users point STACKL at their own infrastructure by
// setting KAFKA_BROKERS, DATABASE_URL and REDIS_URL; nothing else needs changing.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from './errors.js';
import { kafkaBrokersFrom, kafkaSecurityFrom, type KafkaSecurity } from './kafka-settings.js';
import { maskUrl } from './secret.js';
import { topicDurabilityFrom, type TopicDurability } from './topic-durability.js';
import { webhookHostsFrom } from './webhook-config.js';

/** The Kafka release the local stack runs unless STACKL_KAFKA_VERSION says otherwise (see README's table). */
export const PINNED_KAFKA_VERSION = '4.1.2';

export interface StacklConfig {
  /** Bootstrap brokers as written in KAFKA_BROKERS: host:port, or [ipv6]:port. */
  kafkaBrokers: string[];
  /** TLS and SASL of every Kafka connection (empty: plaintext); secrets print as a mask. */
  kafkaSecurity: KafkaSecurity;
  databaseUrl: string;
  /** The PostgreSQL schema that holds STACKL's tables (tests give each file its own). */
  databaseSchema: string;
  /** The schema of the environment agents drive (the client's infrastructure); only agents write it. */
  environmentSchema: string;
  redisUrl: string;
  /** The RabbitMQ of the `rabbitmq` channel (RABBITMQ_URL). */
  rabbitmqUrl: string;
  /** Which broker decides tasks (STACKL_BROKER): the Kafka stream processors, or the custom one on PostgreSQL. */
  broker: BrokerName;
  topicPrefix: string;
  partitions: number;
  kafkaVersion: string;
  /** The local broker's controller listener; default: the broker port + 1. */
  kafkaControllerPort?: number;
  /** Heap of the local broker's JVM (-Xms and -Xmx). */
  kafkaHeap: string;
  /** Where the local stack keeps Kafka's data, pid files and every log. */
  stateDir: string;
  /** Where downloaded Kafka jars are cached across clones. */
  cacheDir: string;
  /** Reply topics a submission may name start with this (never an internal or STACKL topic). */
  replyTopicPrefix: string;
  /** Hosts a webhook origin may name (STACKL_WEBHOOK_ALLOWED_HOSTS, default loopback only). */
  webhookHosts: string[];
  /** Largest task payload, as compact JSON in UTF-8 bytes. */
  maxPayloadBytes: number;
  /** Largest output a worker may report. */
  maxOutputBytes: number;
  /** max.message.bytes of STACKL's topics: every record a task can produce fits in it. */
  maxMessageBytes: number;
  /** What roles do with database migrations at start: apply (`auto`) or only check (`off`). */
  migrate: 'auto' | 'off';
  /** Replicas, min ISR and retention of STACKL's topics (core/topic-durability.ts). */
  durability: TopicDurability;
  /** How long a stopping worker lets the attempts it runs finish before it abandons them. */
  shutdownGraceMs: number;
  /**
   * A Confluent-compatible schema registry (STACKL_SCHEMA_REGISTRY_URL, e.g. Apicurio's
   * http://127.0.0.1:8081/apis/ccompat/v7). Set: producers register their schemas at start and
   * write Confluent framing. Unset: Avro single-object encoding, no registry needed.
   */
  schemaRegistryUrl?: string;
  /** True when the user set the variable, so we must not start a service of our own in its place. */
  explicit: { kafka: boolean; database: boolean; redis: boolean; rabbitmq: boolean };
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): StacklConfig {
  const kafkaBrokers = kafkaBrokersFrom(env);
  const kafkaSecurity = kafkaSecurityFrom(env);
  const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/stackl';
  assertUrl('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:']);
  const databaseSchema = env.STACKL_DB_SCHEMA ?? 'stackl';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    throw new ConfigError(`STACKL_DB_SCHEMA must be a lower-case SQL identifier, got "${databaseSchema}"`);
  }
  const environmentSchema = env.STACKL_ENV_SCHEMA ?? `${databaseSchema}_env`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(environmentSchema) || environmentSchema === databaseSchema) {
    throw new ConfigError(`STACKL_ENV_SCHEMA must be a lower-case SQL identifier other than the datastore's schema, got "${environmentSchema}"`);
  }
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  assertUrl('REDIS_URL', redisUrl, ['redis:', 'rediss:']);
  const rabbitmqUrl = env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  assertUrl('RABBITMQ_URL', rabbitmqUrl, ['amqp:', 'amqps:']);

  const partitions = Number(env.STACKL_PARTITIONS ?? '6');
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000) {
    throw new ConfigError(`STACKL_PARTITIONS must be an integer from 1 to 1000, got "${env.STACKL_PARTITIONS}"`);
  }
  const topicPrefix = env.STACKL_TOPIC_PREFIX ?? 'stackl.';
  if (!/^[A-Za-z0-9._-]*$/.test(topicPrefix)) {
    throw new ConfigError(`STACKL_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-", got "${topicPrefix}"`);
  }
  const kafkaVersion = env.STACKL_KAFKA_VERSION ?? PINNED_KAFKA_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(kafkaVersion)) {
    throw new ConfigError(`STACKL_KAFKA_VERSION must look like 4.1.2, got "${kafkaVersion}"`);
  }
  const kafkaHeap = env.STACKL_KAFKA_HEAP ?? '512m';
  if (!/^\d+[mg]$/.test(kafkaHeap)) throw new ConfigError(`STACKL_KAFKA_HEAP must look like 512m or 1g, got "${kafkaHeap}"`);
  const controllerPort = env.STACKL_KAFKA_CONTROLLER_PORT === undefined ? undefined : Number(env.STACKL_KAFKA_CONTROLLER_PORT);
  if (controllerPort !== undefined && !(Number.isInteger(controllerPort) && controllerPort > 0 && controllerPort < 65536)) {
    throw new ConfigError(`STACKL_KAFKA_CONTROLLER_PORT must be a port number, got "${env.STACKL_KAFKA_CONTROLLER_PORT}"`);
  }
  const sizes = recordSizes(env);
  const replyTopicPrefix = env.STACKL_REPLY_TOPIC_PREFIX ?? defaultReplyTopicPrefix(topicPrefix);
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(replyTopicPrefix) || replyTopicPrefix.startsWith('_')) {
    throw new ConfigError(`STACKL_REPLY_TOPIC_PREFIX must be 1 to 200 letters, digits, ".", "_" or "-", not starting with "_", got "${replyTopicPrefix}"`);
  }
  // Each role reads its channel where it builds it; refused here too, so `stackl all` stops
  // before it starts any role rather than after the first ones run.
  channelNameFrom(env);
  const broker = brokerNameFrom(env);
  const migrate = env.STACKL_MIGRATE ?? 'auto';
  if (migrate !== 'auto' && migrate !== 'off') throw new ConfigError(`STACKL_MIGRATE must be "auto" or "off", got "${migrate}"`);
  // Read by core/log.ts at every line; refused here so a typo never silently means "info".
  const logLevel = env.STACKL_LOG_LEVEL;
  if (logLevel !== undefined && !['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(`STACKL_LOG_LEVEL must be debug, info, warn or error, got "${logLevel}"`);
  }
  const durability = topicDurabilityFrom(env);
  const shutdownGraceMs = Number(env.STACKL_SHUTDOWN_GRACE_MS ?? DEFAULT_SHUTDOWN_GRACE_MS);
  if (!Number.isInteger(shutdownGraceMs) || shutdownGraceMs < 0 || shutdownGraceMs > 3_600_000) {
    throw new ConfigError(`STACKL_SHUTDOWN_GRACE_MS must be a number of milliseconds from 0 to 3600000, got "${env.STACKL_SHUTDOWN_GRACE_MS}"`);
  }
  const schemaRegistryUrl = env.STACKL_SCHEMA_REGISTRY_URL === '' ? undefined : env.STACKL_SCHEMA_REGISTRY_URL;
  if (schemaRegistryUrl !== undefined) assertUrl('STACKL_SCHEMA_REGISTRY_URL', schemaRegistryUrl, ['http:', 'https:']);
  const cacheRoot = env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return {
    kafkaBrokers,
    kafkaSecurity,
    databaseUrl,
    databaseSchema,
    environmentSchema,
    redisUrl,
    rabbitmqUrl,
    broker,
    topicPrefix,
    partitions,
    kafkaVersion,
    ...(controllerPort === undefined ? {} : { kafkaControllerPort: controllerPort }),
    kafkaHeap,
    replyTopicPrefix,
    webhookHosts: webhookHostsFrom(env),
    ...sizes,
    migrate,
    durability,
    shutdownGraceMs,
    ...(schemaRegistryUrl === undefined ? {} : { schemaRegistryUrl: schemaRegistryUrl.replace(/\/+$/, '') }),
    stateDir: resolve(env.STACKL_HOME ?? '.stackl'),
    cacheDir: resolve(env.STACKL_CACHE ?? join(cacheRoot, 'stackl')),
    explicit: {
      kafka: env.KAFKA_BROKERS !== undefined,
      database: env.DATABASE_URL !== undefined,
      redis: env.REDIS_URL !== undefined,
      rabbitmq: env.RABBITMQ_URL !== undefined,
    },
  };
}

/**
 * The smallest max.message.bytes that holds every record of a task: its state is JSON in
 * which payload and output are strings again, and escaping JSON text as a JSON string at
 * most doubles it; 64 KiB covers every other field (all bounded by the decider).
 */
export function recordBytesNeeded(sizes: { maxPayloadBytes: number; maxOutputBytes: number }): number {
  return 2 * (sizes.maxPayloadBytes + sizes.maxOutputBytes) + 64 * 1024;
}

/** Reply topics live under their own prefix, apart from every topic STACKL itself uses. */
export function defaultReplyTopicPrefix(topicPrefix: string): string {
  return `${topicPrefix}reply.`;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024;
export const DEFAULT_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
/** Most attempts finish within it; an orchestrator's kill deadline must exceed it by a few seconds (README: shutdown). */
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;

function recordSizes(env: Env): { maxPayloadBytes: number; maxOutputBytes: number; maxMessageBytes: number } {
  const size = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1024 || value > 512 * 1024 * 1024) throw new ConfigError(`${name} must be a number of bytes from 1024 to 536870912, got "${raw}"`);
    return value;
  };
  const maxPayloadBytes = size('STACKL_MAX_PAYLOAD_BYTES', DEFAULT_MAX_PAYLOAD_BYTES);
  const maxOutputBytes = size('STACKL_MAX_OUTPUT_BYTES', DEFAULT_MAX_OUTPUT_BYTES);
  const maxMessageBytes = size('STACKL_MAX_MESSAGE_BYTES', DEFAULT_MAX_MESSAGE_BYTES);
  const needed = recordBytesNeeded({ maxPayloadBytes, maxOutputBytes });
  if (maxMessageBytes < needed) {
    throw new ConfigError(
      `STACKL_MAX_MESSAGE_BYTES (${maxMessageBytes}) must be at least 2 × (STACKL_MAX_PAYLOAD_BYTES + STACKL_MAX_OUTPUT_BYTES) + 65536 = ${needed}: a task's state holds both, escaped as JSON strings`,
    );
  }
  return { maxPayloadBytes, maxOutputBytes, maxMessageBytes };
}

function assertUrl(name: string, value: string, protocols: string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The text may hold a password, and this message reaches logs and terminals.
    throw new ConfigError(`${name} is not a URL: "${maskUrl(value)}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${url.protocol}"`);
  }
}

/** A positive integer setting of a role (timeouts, concurrency); undefined when unset. */
export function positiveIntFromEnv(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** The message channels a deployment may choose (STACKL_CHANNEL): how work reaches workers and agents. */
export const CHANNEL_NAMES = ['kafka', 'redis', 'rabbitmq'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** STACKL_CHANNEL, checked: `kafka` when unset. */
export function channelNameFrom(env: Record<string, string | undefined>): ChannelName {
  const name = env.STACKL_CHANNEL ?? 'kafka';
  if (!(CHANNEL_NAMES as readonly string[]).includes(name)) throw new ConfigError(`STACKL_CHANNEL must be one of ${CHANNEL_NAMES.join(', ')}, got "${name}"`, { STACKL_CHANNEL: name });
  return name as ChannelName;
}

/** Channels whose orders a relay moves out of Kafka (the broker itself only ever writes to Kafka). */
export function channelNeedsRelay(channel: ChannelName): boolean {
  return channel !== 'kafka';
}

/** The brokers a deployment may choose (STACKL_BROKER). */
export const BROKER_NAMES = ['kafka', 'custom'] as const;
export type BrokerName = (typeof BROKER_NAMES)[number];

/** STACKL_BROKER, checked: `kafka` when unset. */
export function brokerNameFrom(env: Record<string, string | undefined>): BrokerName {
  const name = env.STACKL_BROKER ?? 'kafka';
  if (!(BROKER_NAMES as readonly string[]).includes(name)) throw new ConfigError(`STACKL_BROKER must be one of ${BROKER_NAMES.join(', ')}, got "${name}"`, { STACKL_BROKER: name });
  return name as BrokerName;
}

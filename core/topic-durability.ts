// How durable STACKL's topics are: replicas, the in-sync replicas an acks=all write
// needs, and how long the audit log and the dead letters are kept. Read at start with
// the other settings, so a value that cannot work stops a command before it creates
// or verifies anything.
import { ConfigError } from './errors.js';

type Env = Record<string, string | undefined>;

export interface TopicDurability {
  /** Replicas of every topic STACKL creates; unset: min(3, brokers alive at creation). */
  replicationFactor?: number;
  /** min.insync.replicas; unset: the topic's replication factor − 1, at least 1. */
  minInsyncReplicas?: number;
  /** retention.ms of task.events (−1: forever). */
  eventsRetentionMs: number;
  /** retention.ms of the dead-letter topic (−1: forever). */
  dlqRetentionMs: number;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** Replay and audit read task.events from its start: by default nothing ever leaves it. */
export const DEFAULT_EVENTS_RETENTION_MS = -1;
/** Long enough for an operator back from holiday to find what was refused, and why. */
export const DEFAULT_DLQ_RETENTION_MS = 90 * DAY_MS;
/**
 * The shortest audit log accepted: task.events feeds the projector, so it must outlive
 * the topics that feed it (7 days) or a projector down for a few days would lose events.
 */
const MIN_EVENTS_RETENTION_MS = 7 * DAY_MS;
const MIN_DLQ_RETENTION_MS = HOUR_MS;
/** Kafka stores a replication factor in 16 bits. */
const MAX_REPLICAS = 32_767;

export function topicDurabilityFrom(env: Env): TopicDurability {
  const replicationFactor = replicas(env, 'STACKL_REPLICATION_FACTOR');
  const minInsyncReplicas = replicas(env, 'STACKL_MIN_INSYNC_REPLICAS');
  if (replicationFactor !== undefined && minInsyncReplicas !== undefined && minInsyncReplicas > replicationFactor) {
    throw new ConfigError(
      `STACKL_MIN_INSYNC_REPLICAS (${minInsyncReplicas}) must not exceed STACKL_REPLICATION_FACTOR (${replicationFactor}): no acks=all write could ever succeed`,
    );
  }
  return {
    ...(replicationFactor === undefined ? {} : { replicationFactor }),
    ...(minInsyncReplicas === undefined ? {} : { minInsyncReplicas }),
    eventsRetentionMs: retention(env, 'STACKL_EVENTS_RETENTION_MS', DEFAULT_EVENTS_RETENTION_MS, MIN_EVENTS_RETENTION_MS, '7 days: the projector and replay read it'),
    dlqRetentionMs: retention(env, 'STACKL_DLQ_RETENTION_MS', DEFAULT_DLQ_RETENTION_MS, MIN_DLQ_RETENTION_MS, '1 hour'),
  };
}

/**
 * The replication factor and min ISR a topic is created with, once the live brokers
 * are known. Refused here, before Kafka refuses it with a bare error code.
 */
export function resolveDurability(durability: Pick<TopicDurability, 'replicationFactor' | 'minInsyncReplicas'>, brokers: number): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = durability.replicationFactor ?? Math.min(3, brokers);
  if (replicationFactor > brokers) {
    throw new ConfigError(`STACKL_REPLICATION_FACTOR is ${replicationFactor} but the cluster has ${brokers} broker${brokers === 1 ? '' : 's'} alive: Kafka cannot place that many replicas`);
  }
  const minInsyncReplicas = defaultMinInsync(durability.minInsyncReplicas, replicationFactor);
  if (minInsyncReplicas > replicationFactor) {
    throw new ConfigError(
      `STACKL_MIN_INSYNC_REPLICAS (${minInsyncReplicas}) exceeds the replication factor (${replicationFactor}, from ${durability.replicationFactor === undefined ? `min(3, ${brokers} brokers)` : 'STACKL_REPLICATION_FACTOR'}): no acks=all write could ever succeed`,
    );
  }
  return { replicationFactor, minInsyncReplicas };
}

/** One replica may be lost without refusing writes, never fewer than one in sync. */
export function defaultMinInsync(configured: number | undefined, replicationFactor: number): number {
  return configured ?? Math.max(1, replicationFactor - 1);
}

function replicas(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_REPLICAS) throw new ConfigError(`${name} must be an integer from 1 to ${MAX_REPLICAS}, got "${raw}"`);
  return value;
}

function retention(env: Env, name: string, fallback: number, min: number, minText: string): number {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!(Number.isSafeInteger(value) && (value === -1 || value >= min))) {
    throw new ConfigError(`${name} must be -1 (keep forever) or a number of milliseconds of at least ${min} (${minText}), got "${raw}"`);
  }
  return value;
}

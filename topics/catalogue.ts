// The topic catalogue of DESIGN.md §4: what exists, with how many partitions and
// which configs. The co-partitioned set shares one partition count, because every
// record of a task, on every one of these topics, must land on the same partition.
import type { StacklConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_DLQ_RETENTION_MS, DEFAULT_EVENTS_RETENTION_MS } from '../core/topic-durability.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames } from './names.js';

export type CleanupPolicy = 'delete' | 'compact';

export interface TopicSpec {
  name: string;
  partitions: number;
  cleanupPolicy: CleanupPolicy;
  /** Members of the co-partitioned set must all have the same partition count. */
  coPartitioned: boolean;
  configs: Record<string, string>;
  /** Unset: min(3, brokers alive) at creation, and an existing topic's own count is accepted. */
  replicationFactor?: number;
  /** Unset: replication factor − 1, at least 1 (core/topic-durability.ts). */
  minInsyncReplicas?: number;
  /** The setting behind a config, named when an existing topic contradicts it (else: "the catalogue"). */
  sources?: Record<string, string>;
}

export interface CatalogueOptions {
  prefix: string;
  partitions: number;
  /** Audit log retention; -1 keeps events forever (the default). */
  eventsRetentionMs?: number;
  /** Dead letters' retention; default 90 days. */
  dlqRetentionMs?: number;
  replicationFactor?: number;
  minInsyncReplicas?: number;
  /**
   * max.message.bytes of every topic: large enough for any record a task can produce
   * (config's recordBytesNeeded). The dead-letter topic gets 64 KiB more, so a copy of any
   * input record fits with the headers that say where it came from and why.
   */
  maxMessageBytes?: number;
}

/** The smallest limit Kafka itself applies when a topic sets none (1 MiB plus batch overhead). */
const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
const DLQ_HEADROOM_BYTES = 64 * 1024;

const DAY_MS = 24 * 60 * 60 * 1000;

export function catalogue(options: CatalogueOptions): TopicSpec[] {
  const names = topicNames(options.prefix);
  const shortLived = { 'retention.ms': String(7 * DAY_MS) };
  const maxMessageBytes = options.maxMessageBytes ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
  const durability = {
    ...(options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor }),
    ...(options.minInsyncReplicas === undefined ? {} : { minInsyncReplicas: options.minInsyncReplicas }),
  };
  const spec = (name: string, cleanupPolicy: CleanupPolicy, coPartitioned: boolean, configs: Record<string, string>, sources: Record<string, string> = {}): TopicSpec => ({
    name,
    partitions: options.partitions,
    cleanupPolicy,
    coPartitioned,
    configs: { 'cleanup.policy': cleanupPolicy, 'max.message.bytes': String(maxMessageBytes), ...configs },
    ...durability,
    sources,
  });
  return [
    spec(names.requests, 'delete', true, shortLived),
    spec(names.results, 'delete', true, shortLived),
    spec(names.dispatch, 'delete', true, shortLived),
    spec(names.rollbacks, 'delete', true, shortLived),
    spec(names.notifications, 'delete', true, shortLived),
    spec(names.events, 'delete', true, { 'retention.ms': String(options.eventsRetentionMs ?? DEFAULT_EVENTS_RETENTION_MS) }, { 'retention.ms': 'STACKL_EVENTS_RETENTION_MS' }),
    // Small segments let the cleaner compact state of finished tasks away soon.
    spec(changelogTopic(options.prefix, LIFECYCLE_APP, LIFECYCLE_TABLE), 'compact', true, {
      'segment.bytes': String(64 * 1024 * 1024),
      'min.cleanable.dirty.ratio': '0.2',
    }),
    spec(
      names.dlq,
      'delete',
      false,
      { 'retention.ms': String(options.dlqRetentionMs ?? DEFAULT_DLQ_RETENTION_MS), 'max.message.bytes': String(maxMessageBytes + DLQ_HEADROOM_BYTES) },
      { 'retention.ms': 'STACKL_DLQ_RETENTION_MS' },
    ),
    // Agent jobs matter only until their task's deadline; a day is plenty.
    spec(names.agentJobs, 'delete', false, { 'retention.ms': String(DAY_MS) }),
    spec(names.agentReplies, 'delete', false, { 'retention.ms': String(DAY_MS) }),
    // One partition: every reader wants all of it, in the order it was written.
    { ...spec(names.kinds, 'compact', false, { 'min.cleanable.dirty.ratio': '0.1' }), partitions: 1 },
  ];
}

/** The catalogue of a deployment, sized by its configuration. */
export function catalogueFor(config: Pick<StacklConfig, 'topicPrefix' | 'partitions' | 'maxMessageBytes' | 'replyTopicPrefix' | 'durability'>): TopicSpec[] {
  const { durability } = config;
  const specs = catalogue({
    prefix: config.topicPrefix,
    partitions: config.partitions,
    maxMessageBytes: config.maxMessageBytes,
    eventsRetentionMs: durability.eventsRetentionMs,
    dlqRetentionMs: durability.dlqRetentionMs,
    ...(durability.replicationFactor === undefined ? {} : { replicationFactor: durability.replicationFactor }),
    ...(durability.minInsyncReplicas === undefined ? {} : { minInsyncReplicas: durability.minInsyncReplicas }),
  });
  assertReplyPrefixApart(config.replyTopicPrefix, specs.map((s) => s.name));
  return specs;
}

/** A reply prefix under which a STACKL topic lies would let any submitter write to it. */
export function assertReplyPrefixApart(replyTopicPrefix: string, topics: string[]): void {
  const inside = topics.filter((t) => t.startsWith(replyTopicPrefix));
  if (inside.length > 0) {
    throw new ConfigError(`STACKL_REPLY_TOPIC_PREFIX "${replyTopicPrefix}" covers STACKL's own topics (${inside.join(', ')}): choose a prefix none of them starts with (the default is STACKL_TOPIC_PREFIX followed by "reply.")`);
  }
}


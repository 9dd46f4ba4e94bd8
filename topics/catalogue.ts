// The topic catalogue of DESIGN.md §4: what exists, with how many partitions and
// which configs. The co-partitioned set shares one partition count, because every
// record of a task, on every one of these topics, must land on the same partition.
import type { StacklConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames } from './names.js';

export type CleanupPolicy = 'delete' | 'compact';

export interface TopicSpec {
  name: string;
  partitions: number;
  cleanupPolicy: CleanupPolicy;
  /** Members of the co-partitioned set must all have the same partition count. */
  coPartitioned: boolean;
  configs: Record<string, string>;
}

export interface CatalogueOptions {
  prefix: string;
  partitions: number;
  /** Audit log retention; -1 keeps events forever (the default). */
  eventsRetentionMs?: number;
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
  const spec = (name: string, cleanupPolicy: CleanupPolicy, coPartitioned: boolean, configs: Record<string, string>): TopicSpec => ({
    name,
    partitions: options.partitions,
    cleanupPolicy,
    coPartitioned,
    configs: { 'cleanup.policy': cleanupPolicy, 'max.message.bytes': String(maxMessageBytes), ...configs },
  });
  return [
    spec(names.requests, 'delete', true, shortLived),
    spec(names.results, 'delete', true, shortLived),
    spec(names.dispatch, 'delete', true, shortLived),
    spec(names.events, 'delete', true, { 'retention.ms': String(options.eventsRetentionMs ?? -1) }),
    // Small segments let the cleaner compact state of finished tasks away soon.
    spec(changelogTopic(options.prefix, LIFECYCLE_APP, LIFECYCLE_TABLE), 'compact', true, {
      'segment.bytes': String(64 * 1024 * 1024),
      'min.cleanable.dirty.ratio': '0.2',
    }),
    spec(names.dlq, 'delete', false, { 'retention.ms': String(90 * DAY_MS), 'max.message.bytes': String(maxMessageBytes + DLQ_HEADROOM_BYTES) }),
    // Agent jobs matter only until their task's deadline; a day is plenty.
    spec(names.agentJobs, 'delete', false, { 'retention.ms': String(DAY_MS) }),
    spec(names.agentReplies, 'delete', false, { 'retention.ms': String(DAY_MS) }),
  ];
}

/** The catalogue of a deployment, sized by its configuration. */
export function catalogueFor(config: Pick<StacklConfig, 'topicPrefix' | 'partitions' | 'maxMessageBytes' | 'replyTopicPrefix'>): TopicSpec[] {
  const specs = catalogue({ prefix: config.topicPrefix, partitions: config.partitions, maxMessageBytes: config.maxMessageBytes });
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


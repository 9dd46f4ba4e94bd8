// The Kafka topics of the message channel's primitives and their creation on demand:
// queue and pub/sub names are chosen by callers at run time, so no catalogue lists them.
// Each topic is made (or found) once per instance. An existing topic with another
// partition count is refused: FIFO queues rest on having exactly one partition.
import type { Admin } from 'kafkajs';
import { ConfigError } from '../core/errors.js';
import { resolveDurability, type TopicDurability } from '../core/topic-durability.js';
import { waitForLeaders } from '../topics/admin.js';
import { channelPubsubTopic, channelQueueTopic, channelStoreTopic } from '../topics/names.js';
import { ChannelNameError } from './message-channel-errors.js';
import { MAX_TTL_MS } from './message-channel.js';

export interface ChannelTopicSpec {
  name: string;
  partitions: number;
  /** Whether an existing topic must have exactly `partitions` (queues do; the store does not care). */
  fixed: boolean;
  configs: Record<string, string>;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Kafka's limit on a topic name. */
const MAX_TOPIC_LENGTH = 249;
// Short segments let retention and compaction reach old records within the hour.
const segment = { 'segment.ms': String(HOUR_MS) };

/**
 * Compacted (latest value per key) and deleted after the longest TTL: every record that
 * old has expired, so retention removes dead values without anyone writing a tombstone.
 */
export function storeTopicSpec(prefix: string, partitions: number): ChannelTopicSpec {
  return { name: channelStoreTopic(prefix), partitions, fixed: false, configs: { 'cleanup.policy': 'compact,delete', 'retention.ms': String(MAX_TTL_MS), ...segment } };
}

/**
 * One partition: Kafka orders records only within a partition. Kept 6 days, under the
 * broker's default offsets retention (7 days), so a queue idle long enough to lose its
 * group's committed offset has nothing left that was already popped.
 */
export function queueTopicSpec(prefix: string, queue: string): ChannelTopicSpec {
  return { name: checked('queue', channelQueueTopic(prefix, queue)), partitions: 1, fixed: true, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(6 * DAY_MS), ...segment } };
}

/** Subscribers start at the end, so old values matter only to a subscription catching up. */
export function pubsubTopicSpec(prefix: string, topic: string): ChannelTopicSpec {
  return { name: checked('topic', channelPubsubTopic(prefix, topic)), partitions: 1, fixed: true, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(DAY_MS), ...segment } };
}

export class ChannelTopics {
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(
    private readonly admin: Admin,
    /** As the catalogue's topics: STACKL_REPLICATION_FACTOR and STACKL_MIN_INSYNC_REPLICAS. */
    private readonly durability: Pick<TopicDurability, 'replicationFactor' | 'minInsyncReplicas'> = {},
  ) {}

  /** Resolves once the topic exists with leaders; a failure is forgotten, so the next call retries. */
  ensure(spec: ChannelTopicSpec): Promise<void> {
    let ready = this.ensured.get(spec.name);
    if (ready === undefined) {
      ready = this.create(spec).catch((error: unknown) => {
        this.ensured.delete(spec.name);
        throw error;
      });
      this.ensured.set(spec.name, ready);
    }
    return ready;
  }

  private async create(spec: ChannelTopicSpec): Promise<void> {
    if (!(await this.admin.listTopics()).includes(spec.name)) {
      const brokers = (await this.admin.describeCluster()).brokers.length;
      const { replicationFactor, minInsyncReplicas } = resolveDurability(this.durability, brokers);
      const configs = { ...spec.configs, 'min.insync.replicas': String(minInsyncReplicas) };
      await this.admin
        .createTopics({
          // As in admin.ts: kafkajs' own wait trips over KRaft's first answers; ours retries.
          waitForLeaders: false,
          topics: [{ topic: spec.name, numPartitions: spec.partitions, replicationFactor, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
        })
        .catch((error: unknown) => {
          // Another instance made it between our list and our create.
          if (!(error instanceof Error && /already exists/i.test(error.message))) throw error;
        });
    }
    await waitForLeaders(this.admin, [spec.name]);
    if (!spec.fixed) return;
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [spec.name] });
    const partitions = topics[0]?.partitions.length;
    if (partitions !== spec.partitions) {
      throw new ConfigError(`topic ${spec.name} has ${partitions} partitions; the message channel needs ${spec.partitions}`, { topic: spec.name, partitions });
    }
  }
}

function checked(kind: 'queue' | 'topic', name: string): string {
  if (name.length > MAX_TOPIC_LENGTH) throw new ChannelNameError(kind, name, `with the topic prefix it makes a Kafka topic name over ${MAX_TOPIC_LENGTH} characters`);
  return name;
}

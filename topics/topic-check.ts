// Compares topics that exist with the catalogue and lists every difference at once
// (partitions, replication, min ISR, retention, cleanup policy, record size limit), so
// an operator fixes a hand-made topic in one pass instead of one refusal at a time.
import kafkajs, { type Admin } from 'kafkajs';
import { defaultMinInsync } from '../core/topic-durability.js';
import type { TopicSpec } from './catalogue.js';

// kafkajs is CommonJS and Node cannot see this export by name.
const { ConfigResourceTypes } = kafkajs;

export type TopicProblemKind = 'partitions' | 'replication' | 'min.insync.replicas' | 'retention.ms' | 'cleanup.policy' | 'max.message.bytes';

export interface TopicProblem {
  topic: string;
  kind: TopicProblemKind;
  message: string;
}

const CHECKED_CONFIGS = ['cleanup.policy', 'max.message.bytes', 'retention.ms', 'min.insync.replicas'];

export async function checkTopics(admin: Admin, specs: TopicSpec[]): Promise<TopicProblem[]> {
  if (specs.length === 0) return [];
  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name, configNames: CHECKED_CONFIGS })),
  });
  const problems: TopicProblem[] = [];
  for (const spec of specs) {
    const partitions = metadata.topics.find((t) => t.name === spec.name)?.partitions ?? [];
    // A partition that lost a replica still lists it: the count is what the topic was made with.
    const replicas = partitions.length === 0 ? 0 : Math.min(...partitions.map((p) => p.replicas.length));
    const entries = described.resources.find((r) => r.resourceName === spec.name)?.configEntries ?? [];
    const value = (name: string) => entries.find((e) => e.configName === name)?.configValue ?? undefined;
    const problem = (kind: TopicProblemKind, message: string) => problems.push({ topic: spec.name, kind, message: `${spec.name} ${message}` });

    if (partitions.length !== spec.partitions) {
      problem(
        'partitions',
        `has ${partitions.length} partitions, the catalogue says ${spec.partitions}` +
          (spec.coPartitioned ? ' (co-partitioned topics must all match; adding partitions remaps tasks, so use the existing count in STACKL_PARTITIONS or a new STACKL_TOPIC_PREFIX)' : ''),
      );
    }
    // Only a count someone asked for is checked: the default follows the brokers alive
    // when the topic was made, and more replicas than asked never weaken a topic.
    if (spec.replicationFactor !== undefined && replicas < spec.replicationFactor) {
      problem('replication', `has replication factor ${replicas}, STACKL_REPLICATION_FACTOR says ${spec.replicationFactor} (add replicas with kafka-reassign-partitions)`);
    }
    const minInsync = defaultMinInsync(spec.minInsyncReplicas, spec.replicationFactor ?? replicas);
    if (value('min.insync.replicas') !== String(minInsync)) {
      const why = spec.minInsyncReplicas === undefined ? `STACKL needs ${minInsync} (its replication factor − 1, at least 1; STACKL_MIN_INSYNC_REPLICAS chooses another)` : `STACKL_MIN_INSYNC_REPLICAS says ${minInsync}`;
      problem('min.insync.replicas', `has min.insync.replicas=${value('min.insync.replicas')}, ${why}`);
    }
    const retention = spec.configs['retention.ms'];
    if (retention !== undefined && value('retention.ms') !== retention) {
      problem('retention.ms', `has retention.ms=${value('retention.ms')}, ${spec.sources?.['retention.ms'] ?? 'the catalogue'} says ${retention}`);
    }
    if (value('cleanup.policy') !== spec.cleanupPolicy) problem('cleanup.policy', `has cleanup.policy=${value('cleanup.policy')}, the catalogue says ${spec.cleanupPolicy}`);
    const needed = spec.configs['max.message.bytes'];
    if (needed !== undefined && !(Number(value('max.message.bytes')) >= Number(needed))) {
      problem('max.message.bytes', `has max.message.bytes=${value('max.message.bytes')}, STACKL needs at least ${needed} (STACKL_MAX_MESSAGE_BYTES)`);
    }
  }
  return problems;
}

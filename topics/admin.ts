// The admin step every role runs before it starts: create the topics of the
// catalogue that are missing, verify the ones that exist, and refuse to run, with
// one message listing every problem, when what exists contradicts the catalogue.
import kafkajs, { type Admin } from 'kafkajs';
import { StacklError } from '../core/errors.js';
import type { TopicSpec } from './catalogue.js';

// kafkajs is CommonJS and Node cannot see this export by name.
const { ConfigResourceTypes } = kafkajs;

export class TopicMismatchError extends StacklError {
  constructor(problems: string[]) {
    super('TOPIC_MISMATCH', `the topics on the cluster do not match STACKL's catalogue:\n  - ${problems.join('\n  - ')}`, {
      retriable: false,
      details: { problems },
    });
  }
}

export interface EnsureTopicsReport {
  created: string[];
  verified: string[];
  /** Existing topics whose max.message.bytes was below what STACKL needs, raised to it. */
  raised: string[];
}

export async function ensureTopics(admin: Admin, specs: TopicSpec[], replicationFactor?: number): Promise<EnsureTopicsReport> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  const present = specs.filter((s) => existing.has(s.name));

  const raised = await raiseMessageLimits(admin, present);
  const problems = await verify(admin, present);
  if (problems.length > 0) throw new TopicMismatchError(problems);

  if (missing.length > 0) {
    const brokers = (await admin.describeCluster()).brokers.length;
    await admin.createTopics({
      // kafkajs' own wait fails on KRaft's brief "does not host this topic-partition"; ours retries it.
      waitForLeaders: false,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: replicationFactor ?? Math.min(3, brokers),
        configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
      })),
    }).catch((error: unknown) => {
      // Another process created them between our list and our create: verify instead.
      if (!(error instanceof Error && /already exists/i.test(error.message))) throw error;
    });
    await waitForLeaders(admin, missing.map((s) => s.name));
    const after = await verify(admin, missing);
    if (after.length > 0) throw new TopicMismatchError(after);
  }
  return { created: missing.map((s) => s.name), verified: present.map((s) => s.name), raised };
}

/** Kafka's code for a config set on the topic itself (as opposed to a broker or default value). */
const DYNAMIC_TOPIC_CONFIG = 1;

/**
 * Topics made before STACKL sized its records (or by hand) may refuse a record STACKL can
 * produce. Raise their limit, never lower it. AlterConfigs replaces a topic's whole set of
 * overrides, so the others are sent along unchanged.
 */
async function raiseMessageLimits(admin: Admin, specs: TopicSpec[]): Promise<string[]> {
  const wanted = specs.filter((s) => s.configs['max.message.bytes'] !== undefined);
  if (wanted.length === 0) return [];
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: wanted.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name })) });
  const raised: string[] = [];
  for (const resource of described.resources) {
    const spec = wanted.find((s) => s.name === resource.resourceName);
    const needed = Number(spec?.configs['max.message.bytes']);
    const actual = Number(resource.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
    if (spec === undefined || !(actual < needed)) continue;
    const kept = resource.configEntries.filter((e) => e.configSource === DYNAMIC_TOPIC_CONFIG && e.configName !== 'max.message.bytes' && e.configValue !== null);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: spec.name, configEntries: [...kept.map((e) => ({ name: e.configName, value: e.configValue })), { name: 'max.message.bytes', value: String(needed) }] }],
    });
    raised.push(spec.name);
  }
  return raised;
}

/** Partition counts (declared, and equal across the co-partitioned set), cleanup policies and record size limits. */
async function verify(admin: Admin, specs: TopicSpec[]): Promise<string[]> {
  if (specs.length === 0) return [];
  const problems: string[] = [];
  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
  const counts = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  for (const spec of specs) {
    const actual = counts.get(spec.name);
    if (actual !== spec.partitions) {
      problems.push(
        `${spec.name} has ${actual} partitions, the catalogue says ${spec.partitions}` +
          (spec.coPartitioned ? ' (co-partitioned topics must all match; adding partitions remaps tasks, so use the existing count in STACKL_PARTITIONS or a new STACKL_TOPIC_PREFIX)' : ''),
      );
    }
  }
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name, configNames: ['cleanup.policy', 'max.message.bytes'] })),
  });
  for (const resource of described.resources) {
    const value = (name: string) => resource.configEntries.find((e) => e.configName === name)?.configValue;
    const spec = specs.find((s) => s.name === resource.resourceName);
    if (spec === undefined) continue;
    const policy = value('cleanup.policy');
    if (policy !== spec.cleanupPolicy) problems.push(`${spec.name} has cleanup.policy=${policy}, the catalogue says ${spec.cleanupPolicy}`);
    const needed = spec.configs['max.message.bytes'];
    if (needed !== undefined && !(Number(value('max.message.bytes')) >= Number(needed))) {
      problems.push(`${spec.name} has max.message.bytes=${value('max.message.bytes')}, STACKL needs at least ${needed} (STACKL_MAX_MESSAGE_BYTES)`);
    }
  }
  return problems;
}

/** Waits until every partition of `topics` has a leader, so the first produce does not bounce. */
export async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < until) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (found.length === topics.length && found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new StacklError('TOPIC_NOT_READY', `topics ${topics.join(', ')} had no leaders after ${timeoutMs} ms`, { retriable: true, cause: lastError });
}

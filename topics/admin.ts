// The admin step every role runs before it starts: create the topics of the
// catalogue that are missing (with the replication factor and min ISR of the
// configuration), verify the ones that exist, and refuse to run, with one message
// listing every problem (topic-check.ts), when what exists contradicts the catalogue.
import kafkajs, { type Admin } from 'kafkajs';
import { StacklError } from '../core/errors.js';
import { resolveDurability } from '../core/topic-durability.js';
import type { TopicSpec } from './catalogue.js';
import { checkTopics } from './topic-check.js';

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

export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<EnsureTopicsReport> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  const present = specs.filter((s) => existing.has(s.name));

  // A size limit too small is the one thing fixed in place, and only when nothing else
  // is wrong: a refusal changes nothing, and lists the size limits with the rest.
  const problems = await checkTopics(admin, present);
  if (problems.some((p) => p.kind !== 'max.message.bytes')) throw new TopicMismatchError(problems.map((p) => p.message));
  const raised = await raiseMessageLimits(admin, present.filter((s) => problems.some((p) => p.topic === s.name)));

  if (missing.length > 0) {
    const brokers = (await admin.describeCluster()).brokers.length;
    await admin.createTopics({
      // kafkajs' own wait fails on KRaft's brief "does not host this topic-partition"; ours retries it.
      waitForLeaders: false,
      topics: missing.map((s) => {
        const { replicationFactor, minInsyncReplicas } = resolveDurability(s, brokers);
        const configs = { ...s.configs, 'min.insync.replicas': String(minInsyncReplicas) };
        return { topic: s.name, numPartitions: s.partitions, replicationFactor, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) };
      }),
    }).catch((error: unknown) => {
      // Another process created them between our list and our create: verify instead.
      if (!(error instanceof Error && /already exists/i.test(error.message))) throw error;
    });
    await waitForLeaders(admin, missing.map((s) => s.name));
    const after = await checkTopics(admin, missing);
    if (after.length > 0) throw new TopicMismatchError(after.map((p) => p.message));
  }
  return { created: missing.map((s) => s.name), verified: present.map((s) => s.name), raised };
}

/** What `stackl topics --check` reports; creates and changes nothing. */
export async function verifyTopics(admin: Admin, specs: TopicSpec[]): Promise<{ missing: string[]; problems: string[] }> {
  const existing = new Set(await admin.listTopics());
  const problems = await checkTopics(admin, specs.filter((s) => existing.has(s.name)));
  return { missing: specs.filter((s) => !existing.has(s.name)).map((s) => s.name), problems: problems.map((p) => p.message) };
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

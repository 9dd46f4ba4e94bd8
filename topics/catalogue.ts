// The topic catalogue of DESIGN.md §4: what exists, with how many partitions and
// which configs. The co-partitioned set shares one partition count, because every
// record of a task, on every one of these topics, must land on the same partition.
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
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function catalogue(options: CatalogueOptions): TopicSpec[] {
  const names = topicNames(options.prefix);
  const shortLived = { 'retention.ms': String(7 * DAY_MS) };
  const spec = (name: string, cleanupPolicy: CleanupPolicy, coPartitioned: boolean, configs: Record<string, string>): TopicSpec => ({
    name,
    partitions: options.partitions,
    cleanupPolicy,
    coPartitioned,
    configs: { 'cleanup.policy': cleanupPolicy, ...configs },
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
    spec(names.dlq, 'delete', false, { 'retention.ms': String(90 * DAY_MS) }),
    // Agent jobs matter only until their task's deadline; a day is plenty.
    spec(names.agentJobs, 'delete', false, { 'retention.ms': String(DAY_MS) }),
    spec(names.agentReplies, 'delete', false, { 'retention.ms': String(DAY_MS) }),
  ];
}

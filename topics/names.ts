// Every Kafka name STACKL uses is derived here and nowhere else: topics, changelogs,
// transactional ids and consumer groups. A prefix (STACKL_TOPIC_PREFIX, default
// `stackl.`) lets several deployments, or test files, share one cluster.

export interface TopicNames {
  requests: string;
  results: string;
  dispatch: string;
  events: string;
  dlq: string;
  /** Jobs from workers to agents, keyed by target (not co-partitioned: agents pick by target). */
  agentJobs: string;
  /** Agents' replies, keyed by the waiting worker. */
  agentReplies: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    requests: `${prefix}task.requests`,
    results: `${prefix}task.results`,
    dispatch: `${prefix}task.dispatch`,
    events: `${prefix}task.events`,
    dlq: `${prefix}task.dlq`,
    agentJobs: `${prefix}agent.jobs`,
    agentReplies: `${prefix}agent.replies`,
  };
}

/** The compacted topic backing one table of one stream-processing app (Faust's naming). */
export function changelogTopic(prefix: string, app: string, table: string): string {
  return `${prefix}${app}-${table}-changelog`;
}

/** The consumer group of one app; every instance of the app joins it. */
export function consumerGroup(prefix: string, app: string): string {
  return `${prefix}${app}`;
}

/**
 * One transactional id per input partition: kafkajs cannot fence by consumer group,
 * so the new owner of a partition fences the old one through this shared id.
 */
export function transactionalId(prefix: string, app: string, topic: string, partition: number): string {
  return `${prefix}${app}-${topic}-${partition}`;
}

/** The app and table of the lifecycle processor's task state. */
export const LIFECYCLE_APP = 'lifecycle';
export const LIFECYCLE_TABLE = 'tasks';

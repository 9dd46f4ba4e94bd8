// Every Kafka name STACKL uses is derived here and nowhere else: topics, changelogs,
// transactional ids and consumer groups. A prefix (STACKL_TOPIC_PREFIX, default
// `stackl.`) lets several deployments, or test files, share one cluster.

export interface TopicNames {
  requests: string;
  results: string;
  /** Run orders (RunAttempt) from the lifecycle processor to the workers. */
  dispatch: string;
  /**
   * Rollback orders (RunRollback), apart from run orders: a backlog of new work must never
   * delay an undo, so workers take these first, with slots of their own.
   */
  rollbacks: string;
  events: string;
  /** Outcomes for webhook origins (DeliverOutcome), from the lifecycle processor to the notifier. */
  notifications: string;
  dlq: string;
  /** Jobs from workers to agents, keyed by target (not co-partitioned: agents pick by target). */
  agentJobs: string;
  /** Agents' replies, keyed by the waiting worker. */
  agentReplies: string;
  /** The kind registry: one compacted partition, keyed by kind name (processors/registry/). */
  kinds: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    requests: `${prefix}task.requests`,
    results: `${prefix}task.results`,
    dispatch: `${prefix}task.dispatch`,
    rollbacks: `${prefix}task.rollbacks`,
    events: `${prefix}task.events`,
    notifications: `${prefix}task.notifications`,
    dlq: `${prefix}task.dlq`,
    agentJobs: `${prefix}agent.jobs`,
    agentReplies: `${prefix}agent.replies`,
    kinds: `${prefix}task.kinds`,
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

// The message channel's generic primitives (DESIGN.md §9) on Kafka. Queue and pub/sub
// topic names come from callers at run time (checked in channel/message-channel-checks.ts),
// so their topics are created on demand rather than listed in the catalogue.

/** Temporary storage: one compacted topic that every channel instance reads whole. */
export function channelStoreTopic(prefix: string): string {
  return `${prefix}channel.store`;
}

/** One instance's reader of the store: a group of its own, so it sees every record. */
export function channelStoreGroup(prefix: string, instanceId: string): string {
  return `${prefix}channel.store.${instanceId}`;
}

/** One push/pop queue. */
export function channelQueueTopic(prefix: string, queue: string): string {
  return `${prefix}channel.queue.${queue}`;
}

/** Every popper of a queue joins this one group, so each value goes to one of them. */
export function channelQueueGroup(prefix: string, queue: string): string {
  return `${prefix}channel.queue.${queue}.poppers`;
}

/** One publish/subscribe topic. */
export function channelPubsubTopic(prefix: string, topic: string): string {
  return `${prefix}channel.pubsub.${topic}`;
}

/** One subscription: a group of its own, so every subscription sees every value. */
export function channelSubscriptionGroup(prefix: string, topic: string, subscriptionId: string): string {
  return `${prefix}channel.pubsub.${topic}.${subscriptionId}`;
}

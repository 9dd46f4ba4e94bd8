// Every RabbitMQ queue and exchange of the `rabbitmq` channel, derived in one place from the
// topic prefix (as redis-keys.ts does for Redis), so deployments sharing a RabbitMQ never
// collide. Work delivery lives under `<prefix>work.`, agent jobs under `<prefix>agent.`
// and the message-channel primitives under `<prefix>mc.`, so a queue a caller names can
// never land on a work queue.

export interface RabbitWorkNames {
  /** Run orders waiting for a worker (a durable quorum queue). */
  runs: string;
  /** Rollback orders: a queue of their own, taken with slots of their own. */
  rollbacks: string;
  /** Workers' results, waiting for the relay to write them to task.results. */
  results: string;
  /** Workers' acknowledgements of orders, so the relay commits their offsets only once done. */
  acks: string;
  /** What a work queue refused: undecodable messages, and orders delivered too many times. */
  dead: string;
}

export function rabbitWorkNames(prefix: string): RabbitWorkNames {
  const base = `${prefix}work.`;
  return { runs: `${base}runs`, rollbacks: `${base}rollbacks`, results: `${base}results`, acks: `${base}acks`, dead: `${base}dead` };
}

export interface RabbitAgentNames {
  /** The fanout exchange every job is sent to; each agent's queue is bound to it. */
  jobs: string;
  /** One agent's queue of jobs: durable, so a restarted agent finds what it had not finished. */
  agentQueue(agentName: string): string;
  /** A worker's queue of replies. */
  replies(workerId: string): string;
}

export function rabbitAgentNames(prefix: string): RabbitAgentNames {
  const base = `${prefix}agent.`;
  return { jobs: `${base}jobs`, agentQueue: (name) => `${base}jobs.${name}`, replies: (workerId) => `${base}replies.${workerId}` };
}

/** Arguments of a durable quorum queue that dead-letters what it refuses into `dead`. */
export function quorumQueue(dead?: string, deliveryLimit?: number): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    ...(dead === undefined ? {} : { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead }),
    ...(deliveryLimit === undefined ? {} : { 'x-delivery-limit': deliveryLimit }),
  };
}

export interface RabbitMessageNames {
  /** A push/pop queue a caller names (a durable quorum queue: FIFO, kept across restarts). */
  queue(name: string): string;
  /** The direct exchange of publish/subscribe: the routing key is the caller's topic. */
  pubsub: string;
  /** The stream every put and remove is appended to, and every instance reads whole. */
  store: string;
}

export function rabbitMessageNames(prefix: string): RabbitMessageNames {
  const base = `${prefix}mc.`;
  return { queue: (name) => `${base}queue.${name}`, pubsub: `${base}pubsub`, store: `${base}store` };
}

// Every Redis key of the `redis` channel, derived in one place from the topic prefix
// (as BullMQ derives its queue keys), so deployments sharing a Redis never collide.

export interface RedisChannelKeys {
  /** Run orders waiting for a worker (LPUSH by the relay, taken from the right). */
  queue: string;
  /** Rollback orders waiting for a worker: a queue of their own, taken with slots of their own. */
  rollbackQueue: string;
  /** Orders a worker has taken and not yet acknowledged. */
  processing(workerId: string): string;
  /** A worker's lease; it expires when the worker stops renewing it (dead). */
  lease(workerId: string): string;
  /** Every worker that may hold orders, for the reaper. */
  workers: string;
  /** Results waiting for the relay. */
  results: string;
  /** Results the relay has taken and not yet written to Kafka. */
  resultsProcessing: string;
  /** Acknowledged orders ("partition:offset:topic"), so the relay can commit their offsets. */
  acks: string;
}

export function redisChannelKeys(prefix: string): RedisChannelKeys {
  const base = `${prefix}channel:`;
  return {
    queue: `${base}queue`,
    rollbackQueue: `${base}rollbacks`,
    processing: (workerId) => `${base}processing:${workerId}`,
    lease: (workerId) => `${base}lease:${workerId}`,
    workers: `${base}workers`,
    results: `${base}results`,
    resultsProcessing: `${base}results:processing`,
    acks: `${base}acks`,
  };
}

/** The Redis keys of agent jobs: one stream every agent reads in a group of its own, a reply list per worker. */
export interface RedisAgentKeys {
  jobs: string;
  replies(workerId: string): string;
  group(agentName: string): string;
}

export function redisAgentKeys(prefix: string): RedisAgentKeys {
  const base = `${prefix}agent:`;
  return { jobs: `${base}jobs`, replies: (workerId) => `${base}replies:${workerId}`, group: (agentName) => `${base}${agentName}` };
}

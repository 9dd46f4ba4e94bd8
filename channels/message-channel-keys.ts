// Every Redis key and pub/sub channel of the message channel's primitives, derived in
// one place from the topic prefix (as redis-keys.ts does for work delivery). They live
// under `<prefix>mc:`, apart from work delivery's `<prefix>channel:`, so a queue a
// caller names can never land on the work queue or a worker's processing list.

export interface RedisMessageKeys {
  /** A stored value (SET with PX: Redis expires it). */
  value(key: string): string;
  /** A push/pop queue (LPUSH, BRPOP from the other end: FIFO). */
  queue(name: string): string;
  /** A pub/sub channel (Redis channels are a namespace of their own; the prefix still separates deployments). */
  topic(name: string): string;
}

export function redisMessageKeys(prefix: string): RedisMessageKeys {
  const base = `${prefix}mc:`;
  return {
    value: (key) => `${base}store:${key}`,
    queue: (name) => `${base}queue:${name}`,
    topic: (name) => `${base}pubsub:${name}`,
  };
}

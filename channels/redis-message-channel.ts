// The message channel's primitives on Redis. Storage is SET with PX (Redis expires
// values itself), GET and DEL; queues are LPUSH and BRPOP (FIFO, each value taken by
// one BRPOP, atomically); pub/sub is PUBLISH and SUBSCRIBE. A blocking BRPOP holds its
// connection, so pops get connections of their own (one per concurrent pop, kept for
// reuse), and subscriptions share one connection in subscriber mode.
// Limits, as Redis gives them: a popped value whose popper dies before using it is gone
// (at most once); pub/sub reaches only connected subscribers; a Redis that restarts
// without persistence forgets stored values and queues.
import { Redis } from 'ioredis';
import { createLogger } from '../core/log.js';
import { CheckedMessageChannel, type TextHandler } from './checked-message-channel.js';
import type { Subscription } from './message-channel.js';
import { redisMessageKeys, type RedisMessageKeys } from './message-channel-keys.js';

export interface RedisMessageChannelOptions {
  redisUrl: string;
  prefix: string;
}

/**
 * A connection for BRPOP, with the id CLIENT UNBLOCK needs to end its wait early. After
 * a reconnect the id is stale: UNBLOCK then misses and close waits out that pop's timeout.
 */
interface Blocker {
  redis: Redis;
  id: number;
}

interface Listener {
  handler: TextHandler;
  active: boolean;
  /** Deliveries to this listener, one after another, in publish order. */
  chain: Promise<void>;
}

export class RedisMessageChannel extends CheckedMessageChannel {
  readonly name = 'redis';
  private readonly keys: RedisMessageKeys;
  private readonly commands: Redis;
  private subscriber: Redis | undefined;
  private readonly idle: Blocker[] = [];
  private readonly busy = new Set<Blocker>();
  private readonly pops = new Set<Promise<unknown>>();
  /** Per Redis channel: its listeners, and the SUBSCRIBE every new listener waits for. */
  private readonly topics = new Map<string, { listeners: Set<Listener>; live: Promise<unknown> }>();
  private readonly log = createLogger({ component: 'redis-message-channel' });

  constructor(private readonly options: RedisMessageChannelOptions) {
    super();
    this.keys = redisMessageKeys(options.prefix);
    this.commands = this.connect();
  }

  protected async putText(key: string, text: string, ttlMs: number): Promise<void> {
    await this.commands.set(this.keys.value(key), text, 'PX', ttlMs);
  }

  protected async getText(key: string): Promise<string | undefined> {
    return (await this.commands.get(this.keys.value(key))) ?? undefined;
  }

  protected async removeKey(key: string): Promise<void> {
    await this.commands.del(this.keys.value(key));
  }

  protected async pushText(queue: string, text: string): Promise<void> {
    await this.commands.lpush(this.keys.queue(queue), text);
  }

  protected popText(queue: string, timeoutMs: number): Promise<string | undefined> {
    const pop = this.blockingPop(this.keys.queue(queue), timeoutMs);
    this.pops.add(pop);
    return pop.finally(() => this.pops.delete(pop));
  }

  protected async publishText(topic: string, text: string): Promise<void> {
    await this.commands.publish(this.keys.topic(topic), text);
  }

  protected async subscribeText(topic: string, handler: TextHandler): Promise<Subscription> {
    const channel = this.keys.topic(topic);
    this.subscriber ??= this.connect().on('message', (from: string, text: string) => this.deliver(from, text));
    let entry = this.topics.get(channel);
    if (entry === undefined) {
      entry = { listeners: new Set(), live: this.subscriber.subscribe(channel) };
      this.topics.set(channel, entry);
    }
    const listener: Listener = { handler, active: true, chain: Promise.resolve() };
    entry.listeners.add(listener);
    try {
      // Redis acknowledges SUBSCRIBE only once the channel is live on this connection.
      await entry.live;
    } catch (error) {
      await this.unsubscribe(channel, listener);
      throw error;
    }
    return { unsubscribe: () => this.unsubscribe(channel, listener) };
  }

  protected async closeTransport(): Promise<void> {
    // Redis answers an unblocked BRPOP as a timeout, so no value is taken and lost in flight.
    await Promise.allSettled([...this.busy].map((blocker) => this.commands.client('UNBLOCK', blocker.id)));
    await Promise.allSettled([...this.pops]);
    for (const entry of this.topics.values()) for (const listener of entry.listeners) listener.active = false;
    this.topics.clear();
    await Promise.allSettled([this.commands, this.subscriber, ...this.idle.splice(0).map((b) => b.redis)].map((c) => c?.quit()));
  }

  private async blockingPop(key: string, timeoutMs: number): Promise<string | undefined> {
    const blocker = this.idle.pop() ?? (await this.openBlocker());
    this.busy.add(blocker);
    try {
      // A close that began while the connection opened must not wait for this pop's timeout.
      if (this.closed) return undefined;
      const popped = await blocker.redis.brpop(key, timeoutMs / 1000);
      return popped?.[1];
    } finally {
      this.busy.delete(blocker);
      if (this.closed) blocker.redis.disconnect();
      else this.idle.push(blocker);
    }
  }

  private async openBlocker(): Promise<Blocker> {
    const redis = this.connect();
    return { redis, id: await redis.client('ID') };
  }

  private async unsubscribe(channel: string, listener: Listener): Promise<void> {
    if (!listener.active) return;
    listener.active = false;
    const entry = this.topics.get(channel);
    if (entry === undefined || !entry.listeners.delete(listener) || entry.listeners.size > 0) return;
    this.topics.delete(channel);
    // Ordered on the one subscriber connection: a later SUBSCRIBE to the same channel wins.
    await this.subscriber?.unsubscribe(channel);
  }

  private deliver(channel: string, text: string): void {
    for (const listener of this.topics.get(channel)?.listeners ?? []) {
      listener.chain = listener.chain.then(() => (listener.active ? listener.handler(text) : undefined)).catch(() => {});
    }
  }

  private connect(): Redis {
    const redis = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', (error: Error) => this.log.warn('redis connection error', { error: error.message }));
    return redis;
  }
}

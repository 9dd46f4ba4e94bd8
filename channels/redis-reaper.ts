// Puts the orders of dead workers back on their queue (the `redis` channel): a worker that
// stopped renewing its lease holds orders in its processing list nobody will finish. Shared
// by both relays of the redis channel (the Kafka broker's and the custom broker's).
import type { Redis } from 'ioredis';
import type { Logger } from '../core/log.js';
import type { RedisChannelKeys } from './redis-keys.js';
import type { QueuedOrder } from './relay-offsets.js';

export class RedisReaper {
  constructor(
    private readonly commands: Redis,
    private readonly keys: RedisChannelKeys,
    /** The queue an order goes back to, by the topic (or table) it came from. */
    private readonly queueOf: (source: string | undefined) => string,
    private readonly log: Logger,
  ) {}

  /** Requeues every order of every worker whose lease expired; returns how many. */
  async reap(): Promise<number> {
    let total = 0;
    for (const workerId of await this.commands.smembers(this.keys.workers)) {
      if ((await this.commands.exists(this.keys.lease(workerId))) === 1) continue;
      let moved = 0;
      while (await this.requeueOldest(workerId)) moved += 1;
      await this.commands.srem(this.keys.workers, workerId);
      if (moved > 0) this.log.warn('requeued the orders of a worker whose lease expired', { workerId, moved });
      total += moved;
    }
    return total;
  }

  /**
   * Moves a dead worker's oldest order back to the front of its queue (run or rollback).
   * Peeked, then moved: only reapers touch a dead worker's list, and an order that two
   * reapers send to the wrong queue is still run, only without its priority.
   */
  private async requeueOldest(workerId: string): Promise<boolean> {
    const processing = this.keys.processing(workerId);
    const oldest = await this.commands.lindex(processing, -1);
    if (oldest === null) return false;
    let source: string | undefined;
    try {
      source = (JSON.parse(oldest) as QueuedOrder).source.topic;
    } catch {
      source = undefined;
    }
    return (await this.commands.lmove(processing, this.queueOf(source), 'RIGHT', 'RIGHT')) !== null;
  }
}

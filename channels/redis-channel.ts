// The `redis` channel as workers see it: two reliable queues, run orders and rollback
// orders, each taken in a loop with slots of its own so an undo never waits behind new
// work. An order moves atomically from its queue into this worker's processing list
// (BLMOVE) and leaves it only when its work settled (acknowledged); a worker that dies
// stops renewing its lease and the relay's reaper puts its orders back on their queue. Results are pushed as JSON;
// the relay writes them to task.results. Orders and results are JSON in and out.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger } from '../core/log.js';
import type { TaskResultMessage } from '../schemas/index.js';
import { redisChannelKeys, type RedisChannelKeys } from './redis-keys.js';
import { orderAck, type QueuedOrder } from './relay-offsets.js';
import { Semaphore } from './semaphore.js';
import { rollbackSlotsFor, type WorkChannel, type WorkDelivery, type WorkOrder } from './work-channel.js';

/** One queue as this worker takes it: a blocking connection (BLMOVE holds it) and slots of its own. */
interface TakingLoop {
  queue: string;
  blocking: Redis;
  /** The take (BLMOVE) in progress, if any; it never rejects. */
  taking: Promise<string | null> | undefined;
  done: Promise<void> | undefined;
}

export interface RedisChannelOptions {
  redisUrl: string;
  prefix: string;
  workerId?: string;
  /** How long a silent worker keeps its orders before the reaper requeues them. */
  leaseMs?: number;
}

export class RedisWorkChannel implements WorkChannel {
  readonly name = 'redis';
  readonly workerId: string;
  private readonly keys: RedisChannelKeys;
  private readonly commands: Redis;
  /** Run orders, then rollback orders. */
  private readonly loops: readonly [TakingLoop, TakingLoop];
  private readonly leaseMs: number;
  private running = false;
  private leaseTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log = createLogger({ component: 'redis-channel' });

  constructor(options: RedisChannelOptions) {
    this.workerId = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.keys = redisChannelKeys(options.prefix);
    this.leaseMs = options.leaseMs ?? 10_000;
    // A blocking BLMOVE holds its connection, so commands get a connection of their own.
    this.commands = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    const loop = (queue: string): TakingLoop => ({ queue, blocking: new Redis(options.redisUrl, { maxRetriesPerRequest: null }), taking: undefined, done: undefined });
    this.loops = [loop(this.keys.queue), loop(this.keys.rollbackQueue)];
    for (const client of [this.commands, ...this.loops.map((l) => l.blocking)]) client.on('error', (error) => this.log.warn('redis connection error', { error: error.message }));
  }

  async consume(handle: (delivery: WorkDelivery) => Promise<void>, concurrency: number): Promise<void> {
    await this.renewLease();
    this.leaseTimer = setInterval(() => void this.renewLease().catch(() => {}), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.running = true;
    const [runs, rollbacks] = this.loops;
    runs.done = this.takeFrom(runs, new Semaphore(concurrency), handle);
    rollbacks.done = this.takeFrom(rollbacks, new Semaphore(rollbackSlotsFor(concurrency)), handle);
  }

  private async takeFrom(loop: TakingLoop, slots: Semaphore, handle: (delivery: WorkDelivery) => Promise<void>): Promise<void> {
    while (this.running) {
      // Hold a free slot before taking an order, so nothing waits in our list unworked.
      await slots.acquire();
      if (!this.running) {
        slots.release();
        break;
      }
      loop.taking = this.take(loop);
      const raw = await loop.taking;
      if (raw === null) {
        slots.release();
        continue;
      }
      const work = this.deliver(raw, handle)
        .catch((error: unknown) => this.log.warn('order handling failed', { error }))
        .finally(() => {
          slots.release();
          this.inFlight.delete(work);
        });
      this.inFlight.add(work);
    }
  }

  async report(result: TaskResultMessage): Promise<void> {
    await this.commands.lpush(this.keys.results, JSON.stringify(result));
  }

  /**
   * Ends the taking loop; the lease is still renewed, so the reaper leaves our orders to us.
   * An order a take in progress brings is handed to `handle` before this resolves (the
   * loop's continuation of that take was queued first). The loops themselves may be
   * waiting for a slot, so they are not awaited here.
   */
  async stopTaking(): Promise<void> {
    this.running = false;
    for (const loop of this.loops) loop.blocking.disconnect();
    await Promise.all(this.loops.map((loop) => loop.taking));
  }

  /** Stops taking orders, lets in-flight ones settle, then gives up the lease. */
  async close(): Promise<void> {
    await this.stopTaking();
    await Promise.allSettled([...this.inFlight]);
    await Promise.all(this.loops.map((loop) => loop.done?.catch(() => {})));
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await this.commands.del(this.keys.lease(this.workerId)).catch(() => {});
    this.commands.disconnect();
  }

  private async take(loop: TakingLoop): Promise<string | null> {
    try {
      return await loop.blocking.blmove(loop.queue, this.keys.processing(this.workerId), 'RIGHT', 'LEFT', 1);
    } catch (error) {
      if (this.running) {
        this.log.warn('taking an order failed; retrying', { error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return null;
    }
  }

  private async deliver(raw: string, handle: (delivery: WorkDelivery) => Promise<void>): Promise<void> {
    const queued = JSON.parse(raw) as QueuedOrder;
    try {
      await handle({ order: queued.order as WorkOrder, keepAlive: () => this.renewLease() });
    } finally {
      // Acknowledge: out of our processing list, and tell the relay the offset is done.
      await this.commands.multi().lrem(this.keys.processing(this.workerId), 1, raw).lpush(this.keys.acks, orderAck(queued.source)).exec();
    }
  }

  /** Also re-registers the worker: a Redis that restarted empty forgot it. */
  private async renewLease(): Promise<void> {
    await this.commands.multi().set(this.keys.lease(this.workerId), '1', 'PX', this.leaseMs).sadd(this.keys.workers, this.workerId).exec();
  }
}

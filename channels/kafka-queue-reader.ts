// The popping side of one queue on Kafka. Every popper joins the queue's one group; the
// queue's topic has one partition (FIFO), so Kafka hands it to one member at a time and
// that instance's pops take the values, oldest pop first. Held values wait for a pop
// while the consumer keeps heartbeating. An instance with no pop for `idleMs` leaves the
// group, so the partition moves to an instance that is popping.
// A value goes to a pop only after its offset is committed: a member that lost the
// partition in a rebalance cannot commit (its generation is stale), so it never hands out
// what the new owner will also read. Hence exactly once while nothing crashes, and at
// most once when a popper dies between the commit and using the value.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { ServiceUnavailableError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { PopWaiters, type PopWaiter } from './pop-waiters.js';

export interface KafkaQueueReaderOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  idleMs: number;
  /** How soon the group notices a dead popper and hands its queue on. */
  sessionTimeoutMs: number;
}

export class KafkaQueueReader {
  private readonly waiters = new PopWaiters();
  private consumer: Consumer | undefined;
  /** Joins and leaves, in order: a rejoin waits until the previous member has left. */
  private lifecycle: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private readonly idleCheck: NodeJS.Timeout;
  private closed = false;
  private readonly log = createLogger({ component: 'kafka-queue-reader' });

  constructor(private readonly options: KafkaQueueReaderOptions) {
    this.idleCheck = setInterval(() => {
      if (this.waiters.size === 0 && Date.now() - this.waiters.lastActive >= options.idleMs) this.leave();
    }, Math.max(50, Math.floor(options.idleMs / 2))).unref();
  }

  pop(timeoutMs: number): Promise<string | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const popped = this.waiters.add(timeoutMs);
    this.join();
    this.wake?.();
    return popped;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.idleCheck);
    this.leave();
    await this.lifecycle;
    // Only now: a pop whose commit failed while the member left is back in the list.
    this.waiters.settleAll(undefined);
  }

  private join(): void {
    if (this.consumer !== undefined || this.closed) return;
    const { kafka, topic, groupId, sessionTimeoutMs } = this.options;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: sessionTimeoutMs, heartbeatInterval: Math.min(1000, Math.floor(sessionTimeoutMs / 3)) });
    this.consumer = consumer;
    // kafkajs restarts itself after retriable errors; after any other, the next pop joins afresh.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart && this.consumer === consumer) this.leave();
    });
    this.lifecycle = this.lifecycle.then(async () => {
      try {
        await consumer.connect();
        // From the beginning only when the group has no committed offset: values pushed before any popper existed.
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.serve(consumer, payload) });
      } catch (error) {
        this.log.warn('joining the queue group failed', { topic, error });
        if (this.consumer === consumer) this.consumer = undefined;
        await consumer.disconnect().catch(() => {});
        this.waiters.settleAll(new ServiceUnavailableError('kafka', `cannot pop from ${topic}: ${(error as Error).message}`, error));
      }
    });
  }

  private leave(): void {
    const consumer = this.consumer;
    if (consumer === undefined) return;
    this.consumer = undefined;
    this.wake?.();
    this.lifecycle = this.lifecycle.then(() => consumer.disconnect()).catch((error: unknown) => this.log.warn('leaving the queue group failed', { error }));
  }

  private async serve(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    for (const message of batch.messages) {
      if (message.value === null) {
        resolveOffset(message.offset);
        continue;
      }
      const waiter = await this.nextWaiter(consumer, heartbeat, () => isRunning() && !isStale());
      // Left the group or lost the partition: what is not handed out is read again by the next owner.
      if (waiter === undefined) return;
      try {
        await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(message.offset) + 1) }] }] });
      } catch (error) {
        // Not committed, so not ours to hand out: the pop waits again.
        this.waiters.putBack(waiter);
        throw error;
      }
      resolveOffset(message.offset);
      this.waiters.settle(waiter, message.value.toString('utf8'));
      // Rate-limited by kafkajs; keeps a long run of pops inside the session timeout.
      await heartbeat();
    }
  }

  /** The oldest waiting pop, claimed; undefined when this member should stop serving. */
  private async nextWaiter(consumer: Consumer, heartbeat: () => Promise<void>, live: () => boolean): Promise<PopWaiter | undefined> {
    for (;;) {
      if (this.consumer !== consumer || !live()) return undefined;
      const waiter = this.waiters.claim();
      if (waiter !== undefined) return waiter;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 500).unref();
      });
      // Throws when the group rebalances; kafkajs then rejoins and fetches again.
      await heartbeat();
    }
  }
}

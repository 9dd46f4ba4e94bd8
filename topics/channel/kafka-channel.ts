// The `kafka` channel: workers join one consumer group on task.dispatch and write
// results to task.results. Orders start as they arrive, up to the worker's concurrency,
// each without waiting for the ones before it; a partition's offset is committed up to
// its oldest unsettled order (order-window.ts), so a worker killed mid-task leaves its
// unfinished orders to the next member of the group (duplicates are fenced by attempt
// number). Waiting for a whole batch instead let one slow order (a stack whose agent was
// away) hold back every order behind it, rollbacks included, until they expired (found
// by the long chaos run on this channel).
import type { Consumer, Kafka, KafkaMessage, Message } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { decode, encode, taskDispatchSchema, taskResultSchema, type TaskResultMessage } from '../../schemas/index.js';
import { createLogger } from '../../core/log.js';
import { deadLetter } from '../dead-letter.js';
import { partitionForKey } from '../partitioner.js';
import { CoalescingSender } from '../coalescing-sender.js';
import { RenewingProducer } from '../renewing-producer.js';
import { OrderWindow } from './order-window.js';
import { Semaphore } from './semaphore.js';
import type { WorkChannel, WorkDelivery } from './work-channel.js';
import { watchConsumer, type OnConsumerStopped } from '../consumer-watch.js';

/** How long a worker keeps trying to send one result. */
const RESULT_PATIENCE_MS = 60_000;

export interface KafkaChannelOptions {
  kafka: Kafka;
  dispatchTopic: string;
  resultsTopic: string;
  dlqTopic: string;
  groupId: string;
  partitions: number;
  /** How soon the group notices a dead worker and hands its orders to another (≥ 6 s on a default broker). */
  sessionTimeoutMs?: number;
  /** Its consumer of task.dispatch stopped for good (the role should exit and be restarted). */
  onFatal?: OnConsumerStopped;
}

export class KafkaWorkChannel implements WorkChannel {
  readonly name = 'kafka';
  private readonly consumer: Consumer;
  private readonly producer: RenewingProducer;
  private readonly results: CoalescingSender<Message, void>;
  private readonly log = createLogger({ component: 'kafka-channel' });
  private readonly windows = new Map<number, OrderWindow>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private taking = true;
  /** Orders started and still decoding: `handle` is called for each once it decodes. */
  private readonly decoding = new Set<Promise<unknown>>();

  constructor(private readonly options: KafkaChannelOptions) {
    this.consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 50, sessionTimeout: options.sessionTimeoutMs ?? 30_000, heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)) });
    watchConsumer(this.consumer, 'worker channel', this.log, options.onFatal);
    this.producer = new RenewingProducer(options.kafka);
    // Hundreds of concurrent attempts reporting at once share produce requests.
    this.results = new CoalescingSender<Message, void>(async (messages) => {
      await this.producer.send({ topic: options.resultsTopic, acks: -1, messages });
      return messages.map(() => undefined);
    }, { maxItems: 500 });
  }

  async consume(handle: (delivery: WorkDelivery) => Promise<void>, concurrency: number): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.dispatchTopic, fromBeginning: true });
    const slots = new Semaphore(concurrency);
    // Partitions lost in a rebalance are forgotten (their running orders finish, fenced);
    // kept ones keep their window, so orders Kafka hands again are not started twice.
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const mine = new Set(payload.memberAssignment[this.options.dispatchTopic] ?? []);
      for (const partition of this.windows.keys()) if (!mine.has(partition)) this.windows.delete(partition);
    });
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.min(concurrency, this.options.partitions),
      // A batch returns once its orders have started; waiting for a free slot is the
      // back-pressure that keeps a worker from taking more than it can run.
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        const window = this.windowOf(batch.partition);
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (!window.isNew(offset)) continue;
          await slots.acquire();
          if (!this.taking || !isRunning() || isStale()) {
            slots.release();
            return;
          }
          window.started(offset);
          void this.deliver(batch.topic, batch.partition, message, handle, heartbeat)
            .catch((error: unknown) => this.log.warn('work order failed', { partition: batch.partition, offset: message.offset, error }))
            .finally(() => {
              slots.release();
              window.settled(offset);
              this.scheduleCommit();
            });
        }
        // Markers and orders skipped count as settled once nothing before them is pending.
        if (batch.messages.length === 0 || window.inFlight === 0) this.scheduleCommit();
        await heartbeat();
      },
    });
  }

  private windowOf(partition: number): OrderWindow {
    let window = this.windows.get(partition);
    if (window === undefined) {
      window = new OrderWindow();
      this.windows.set(partition, window);
    }
    return window;
  }

  /** Commits, every 200 ms at most, each partition's offset up to its oldest unsettled order. */
  private scheduleCommit(): void {
    if (this.commitTimer !== undefined) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      this.committing = this.committing.then(() => this.commitSettled()).catch((error: unknown) => this.log.debug('committing settled orders failed; the next commit covers them', { error }));
    }, 200);
  }

  private async commitSettled(): Promise<void> {
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    for (const [partition, window] of this.windows) {
      const next = window.committable();
      if (next > window.committed) offsets.push({ topic: this.options.dispatchTopic, partition, offset: next.toString() });
    }
    if (offsets.length === 0) return;
    await this.consumer.commitOffsets(offsets);
    for (const { partition, offset } of offsets) {
      const window = this.windows.get(partition);
      if (window !== undefined && BigInt(offset) > window.committed) window.committed = BigInt(offset);
    }
  }

  /**
   * A result is worth waiting for: lost, its task waits out its deadline and rolls back
   * work that was done. So a send that failed (a leader moving takes seconds, longer than
   * kafkajs' own retries) is tried again, on a new producer, for up to a minute; the
   * broker fences duplicates by attempt.
   */
  async report(result: TaskResultMessage): Promise<void> {
    const message = { key: result.taskId, value: encode(taskResultSchema, result), partition: partitionForKey(result.taskId, this.options.partitions) };
    const giveUpAt = Date.now() + RESULT_PATIENCE_MS;
    for (let pause = 250; ; pause = Math.min(pause * 2, 5_000)) {
      try {
        await this.results.send(message);
        return;
      } catch (error) {
        if (Date.now() + pause > giveUpAt) throw error;
        this.log.warn('result not sent; trying again', { taskId: result.taskId, type: result.type, inMs: pause, error });
        await sleep(pause);
      }
    }
  }

  /**
   * Pauses fetching (the consumer keeps heartbeating, so the group keeps our partitions and
   * the orders we run stay ours) and waits for orders still decoding: their `handle` runs
   * before this resolves, because their own continuation was queued first.
   */
  async stopTaking(): Promise<void> {
    this.taking = false;
    try {
      this.consumer.pause([{ topic: this.options.dispatchTopic }]);
    } catch {
      // Never consumed: there is nothing to pause.
    }
    await Promise.allSettled([...this.decoding]);
  }

  private async deliver(topic: string, partition: number, message: KafkaMessage, handle: (delivery: WorkDelivery) => Promise<void>, keepAlive: () => Promise<void>): Promise<void> {
    let order;
    const decoding = decode(message.value ?? Buffer.alloc(0), taskDispatchSchema);
    this.decoding.add(decoding);
    try {
      order = await decoding;
    } catch (error) {
      this.log.warn('work order does not decode; dead-lettering it', { partition, offset: message.offset, error });
      const dead = deadLetter(this.options.dlqTopic, this.options.groupId, { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} }, error);
      await this.producer.send({ topic: dead.topic, acks: -1, messages: [{ key: dead.key, value: dead.value, headers: dead.headers }] });
      return;
    } finally {
      this.decoding.delete(decoding);
    }
    await handle({ order, keepAlive });
  }

  async close(): Promise<void> {
    await this.stopTaking();
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    await this.committing;
    // What settled since the last commit is not handed to another worker again.
    await this.commitSettled().catch(() => {});
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}

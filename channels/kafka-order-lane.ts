// One topic of work orders as a worker of the `kafka` channel takes them: a consumer
// group of its own and slots of its own. The channel runs two lanes, run orders
// (task.dispatch) and rollback orders (task.rollbacks), so a backlog of new work, or
// run orders holding every slot, never delays an undo (the 30-minute chaos run saw
// rollbacks expire in a shared queue twenty times over).
//
// Orders start as they arrive, up to the lane's slots, each without waiting for the
// ones before it; a partition's offset is committed up to its oldest unsettled order
// (order-window.ts), so a worker killed mid-task leaves its unfinished orders to the
// next member of the group (duplicates are fenced by attempt number).
//
// kafkajs stops a consumer for good when it cannot find the group coordinator, which a
// Kafka restart or a dropped connection causes: the lane then joins again with a new
// consumer of the same group (renewed-consumer.ts), while the orders it runs go on and
// report. The worker used to exit for it, and every attempt and rollback it ran waited
// out its deadline. Any other error that stops the consumer for good goes to onFatal.
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { createLogger } from '../core/log.js';
import type { OnConsumerStopped } from '../topics/consumer-watch.js';
import { isCoordinatorLoss } from '../topics/coordinator-loss.js';
import { RenewedConsumer } from './renewed-consumer.js';
import { OrderWindow } from './order-window.js';
import { Semaphore } from './semaphore.js';

/** How long a batch waits for a free slot between two heartbeats. */
const SLOT_WAIT_HEARTBEAT_MS = 1_000;

export interface KafkaOrderLaneOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  partitions: number;
  sessionTimeoutMs: number;
  /** What the logs call this lane ("run orders", "rollback orders"). */
  label: string;
  onFatal?: OnConsumerStopped;
}

/** Starts one order; resolves once it settled (done, failed or skipped). */
export type StartOrder = (topic: string, partition: number, message: KafkaMessage, keepAlive: () => Promise<void>) => Promise<void>;

export class KafkaOrderLane {
  /** The lane's member of the group, renewed after a lost coordinator; set by consume(). */
  private member: RenewedConsumer | undefined;
  private readonly log;
  private readonly windows = new Map<number, OrderWindow>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private taking = true;

  constructor(private readonly options: KafkaOrderLaneOptions) {
    this.log = createLogger({ component: 'kafka-channel', lane: options.label });
  }

  async consume(start: StartOrder, slotCount: number): Promise<void> {
    const slots = new Semaphore(slotCount);
    const what = `worker channel (${this.options.label})`;
    this.member = new RenewedConsumer({
      make: () => this.newConsumer(),
      start: (consumer) => this.join(consumer, start, slots),
      what,
      log: this.log,
      renews: isCoordinatorLoss,
      onGivenUp: (error) => {
        this.log.error(`${what}: kafkajs stopped the consumer for good`, { error });
        this.options.onFatal?.(error);
      },
    });
    await this.member.run();
  }

  private newConsumer(): Consumer {
    return this.options.kafka.consumer({
      groupId: this.options.groupId,
      maxWaitTimeInMs: 50,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(this.options.sessionTimeoutMs / 3)),
    });
  }

  /** Joins the group with `consumer` and takes orders into `slots` (shared by every consumer the lane has had). */
  private async join(consumer: Consumer, start: StartOrder, slots: Semaphore): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    // Partitions lost in a rebalance are forgotten (their running orders finish, fenced);
    // kept ones keep their window, so orders Kafka hands again are not started twice.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const mine = new Set(payload.memberAssignment[this.options.topic] ?? []);
      for (const partition of this.windows.keys()) if (!mine.has(partition)) this.windows.delete(partition);
    });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.min(slots.limit, this.options.partitions),
      // A batch returns once its orders have started; waiting for a free slot is the
      // back-pressure that keeps a worker from taking more than it can run.
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        const window = this.windowOf(batch.partition);
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (!window.isNew(offset)) continue;
          // While every slot runs an order, heartbeat as we wait for one: a rebalance
          // then surfaces here (heartbeat throws) and this member rejoins at once. Waiting
          // on the slot alone stopped the heartbeat, so a rebalance waited for this member
          // until its session expired and it was evicted (a 47 s rebalance of the workers'
          // group in the chaos run, nothing taken meanwhile). Orders of this batch not
          // started yet are fetched again after the rejoin.
          while (!(await slots.acquireWithin(SLOT_WAIT_HEARTBEAT_MS))) await heartbeat();
          if (!this.taking || !isRunning() || isStale()) {
            slots.release();
            return;
          }
          window.started(offset);
          void start(batch.topic, batch.partition, message, heartbeat)
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

  /** Pauses fetching; the consumer keeps heartbeating, so the orders we run stay ours. */
  stopTaking(): void {
    this.taking = false;
    try {
      this.member?.consumer?.pause([{ topic: this.options.topic }]);
    } catch {
      // Never consumed: there is nothing to pause.
    }
  }

  /** Commits what settled and leaves the group. */
  async close(): Promise<void> {
    this.stopTaking();
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    await this.committing;
    // What settled since the last commit is not handed to another worker again.
    await this.commitSettled().catch(() => {});
    await this.member?.stop();
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
      if (next > window.committed) offsets.push({ topic: this.options.topic, partition, offset: next.toString() });
    }
    const consumer = this.member?.consumer;
    if (offsets.length === 0 || consumer === undefined) return;
    await consumer.commitOffsets(offsets);
    for (const { partition, offset } of offsets) {
      const window = this.windows.get(partition);
      if (window !== undefined && BigInt(offset) > window.committed) window.committed = BigInt(offset);
    }
  }
}

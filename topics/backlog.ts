// How much work is waiting, read from Kafka every poll interval and kept, so no request
// pays for it: requests the lifecycle processor has not processed (its consumer group's
// lag on task.requests) and orders no worker has taken yet (the lag of the workers'
// group, or of the relay's on the redis channel, on task.dispatch) and, on the kafka
// channel, rollback orders no worker has taken yet (the rollback lanes' group on
// task.rollbacks). The API sheds submissions when either passes its bound
// (api/admission.ts); the broker refuses new tasks when the orders do
// (processors/broker/kafka/submit-admission.ts). A reading that stopped coming (Kafka
// unreachable) is reported as such, never as "no backlog".
import { channelNeedsRelay, type ChannelName } from '../core/config.js';
import type { Admin } from 'kafkajs';
import type { Logger } from '../core/log.js';
import { rollbackGroupOf } from '../channels/kafka-channel.js';
import { RELAY_APP } from '../channels/start-relay.js';
import { consumerGroup, LIFECYCLE_APP, type TopicNames } from './names.js';
import { WORKERS_APP } from '../workers/start-worker.js';
import { topicOffsets } from './topic-offsets.js';

export interface BacklogReading {
  /** Records of task.requests the lifecycle processor has not committed past. */
  requests: number;
  /** Records of task.dispatch the workers (or the relay) have not committed past. */
  orders: number;
  /**
   * Where the takers' group stands on task.dispatch, summed over partitions: it grows by
   * one per order taken (and per transaction marker passed). Its rate of growth is how
   * fast the queue drains, which turns a count of orders into a wait.
   */
  ordersTaken?: number;
  /**
   * Rollback orders no worker has taken yet, and where their takers stand (as for
   * orders). Rollbacks have slots of their own, a fraction of the run slots: when tasks
   * time out by the thousand they queue here, and every task behind them stays
   * unfinished, so a long wait here is overload as much as one for run orders.
   */
  rollbacks?: number;
  rollbacksTaken?: number;
}

/** How fast orders leave the queue, and how long the orders waiting now would take at that pace. */
export interface Drain {
  ordersPerSecond: number;
  /** Infinity when orders wait and none was taken in the window. */
  ordersWaitMs: number;
}

/** Below this many orders waiting, their wait is not judged: a few orders are no queue, and the pace of a near-idle queue says little. */
export const MIN_ORDERS_FOR_WAIT = 100;

/**
 * The orders waiting and the pace they leave at, when a fresh reading shows them taking
 * longer than maxWaitMs to drain; undefined when they do not, or cannot be judged (a
 * stale reading, no pace measured yet, fewer than MIN_ORDERS_FOR_WAIT orders, 0 = off).
 */
export function ordersWaitBeyond(state: BacklogState, maxWaitMs: number): (Drain & { orders: number; queue: 'run' | 'rollback'; text: string }) | undefined {
  if (maxWaitMs === 0 || !state.fresh) return undefined;
  const queues = [
    { queue: 'run' as const, label: 'orders', waiting: state.estimate?.orders, drain: state.drain },
    { queue: 'rollback' as const, label: 'rollback orders', waiting: state.estimate?.rollbacks, drain: state.rollbackDrain },
  ];
  for (const { queue, label, waiting, drain } of queues) {
    if (waiting === undefined || drain === undefined || waiting < MIN_ORDERS_FOR_WAIT || drain.ordersWaitMs <= maxWaitMs) continue;
    const how = drain.ordersPerSecond === 0 ? 'no worker took one in the last seconds' : `about ${Math.round(drain.ordersWaitMs / 1000)} s at the ${drain.ordersPerSecond.toFixed(1)}/s workers take them`;
    return { orders: waiting, queue, ...drain, text: `${waiting} ${label} wait for a worker, ${how} (limit ${maxWaitMs / 1000} s)` };
  }
  return undefined;
}

/** The drain rate is measured over the readings of this last stretch of time... */
const DRAIN_WINDOW_MS = 15_000;
/**
 * ...once they span at least this much. Shorter, a stall of a few seconds (a rebalance of
 * the workers' group, a leader moving) read as "no worker takes orders" and the broker
 * refused tasks the API had accepted, for a pause the queue rides out by itself.
 */
const DRAIN_MIN_SPAN_MS = 10_000;

export interface BacklogState {
  /** A reading younger than the staleness limit exists, or the monitor started less than that ago. */
  fresh: boolean;
  /** The last reading, plus what this API accepted since it began (absent before the first). */
  estimate?: BacklogReading;
  /** Age of the last reading (before the first: time since start), ms. */
  ageMs?: number;
  /** Why the last poll failed, when it did. */
  error?: string;
  /** Present once fresh readings span a few seconds (see DRAIN_MIN_SPAN_MS). */
  drain?: Drain;
  /** The same for rollback orders, when they are read. */
  rollbackDrain?: Drain;
}

/**
 * The pace at which takers leave a queue, from their position over the last readings.
 * While few orders wait, workers take what arrives, not what they could: that pace says
 * nothing of their capacity, so the window starts again. Measured only over a backed-up
 * queue, a burst after an idle spell is not judged by the idle pace.
 */
class PaceWindow {
  /** Readings of the takers' position, oldest first, within DRAIN_WINDOW_MS of the last. */
  private points: { at: number; taken: number }[] = [];

  note(at: number, waiting: number, taken: number | undefined): void {
    if (taken === undefined || waiting < MIN_ORDERS_FOR_WAIT) this.points = [];
    else this.points.push({ at, taken });
    while ((this.points[0]?.at ?? at) < at - DRAIN_WINDOW_MS) this.points.shift();
  }

  /** A gap in the readings is no measure of the pace. */
  reset(): void {
    this.points = [];
  }

  drain(waiting: number): Drain | undefined {
    const first = this.points[0];
    const last = this.points[this.points.length - 1];
    if (first === undefined || last === undefined || last.at - first.at < DRAIN_MIN_SPAN_MS) return undefined;
    const ordersPerSecond = (Math.max(0, last.taken - first.taken) * 1000) / (last.at - first.at);
    const ordersWaitMs = waiting === 0 ? 0 : ordersPerSecond === 0 ? Number.POSITIVE_INFINITY : Math.round((waiting * 1000) / ordersPerSecond);
    return { ordersPerSecond, ordersWaitMs };
  }
}

export interface BacklogMonitorOptions {
  pollMs: number;
  log: Logger;
  /** A reading older than this is stale (Kafka did not answer); default three polls, at least 3 s. */
  staleAfterMs?: number;
  clock?: () => number;
}

export class BacklogMonitor {
  private reading: (BacklogReading & { at: number }) | undefined;
  private readonly orderPace = new PaceWindow();
  private readonly rollbackPace = new PaceWindow();
  private startedAt: number | undefined;
  private acceptedSince = 0;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private readonly clock: () => number;
  private readonly staleAfterMs: number;

  constructor(
    private readonly read: () => Promise<BacklogReading>,
    private readonly options: BacklogMonitorOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.staleAfterMs = options.staleAfterMs ?? Math.max(3000, 3 * options.pollMs);
  }

  /** Reads once now, then every pollMs (a slow read delays the next; reads never overlap). */
  start(): void {
    if (this.polling !== undefined || this.stopped) return;
    this.startedAt = this.clock();
    const loop = async (): Promise<void> => {
      await this.poll();
      if (!this.stopped) this.timer = setTimeout(() => void (this.polling = loop()), this.options.pollMs).unref();
    };
    this.polling = loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
  }

  /** One more command on its way to task.requests: counted until the next reading includes it. */
  noteAccepted(): void {
    this.acceptedSince += 1;
  }

  state(): BacklogState {
    const now = this.clock();
    const error = this.lastError === undefined ? {} : { error: this.lastError };
    // No reading yet: young is not stale (the first reads may fail while topics get
    // their leaders); no reading for as long as a stale one would be is.
    if (this.reading === undefined) {
      const ageMs = now - (this.startedAt ?? now);
      return { fresh: ageMs <= this.staleAfterMs, ageMs, ...error };
    }
    const ageMs = now - this.reading.at;
    const { requests, orders, rollbacks } = this.reading;
    const estimate = { requests: requests + this.acceptedSince, orders, ...(rollbacks === undefined ? {} : { rollbacks }) };
    const drain = this.orderPace.drain(orders);
    const rollbackDrain = rollbacks === undefined ? undefined : this.rollbackPace.drain(rollbacks);
    return { fresh: ageMs <= this.staleAfterMs, estimate, ageMs, ...error, ...(drain === undefined ? {} : { drain }), ...(rollbackDrain === undefined ? {} : { rollbackDrain }) };
  }

  private async poll(): Promise<void> {
    const began = this.clock();
    // Commands accepted from here on may or may not be in this reading: keep counting
    // them until the next one, so the estimate errs on the side of more backlog.
    const acceptedBefore = this.acceptedSince;
    try {
      const reading = await this.read();
      this.reading = { ...reading, at: began };
      this.orderPace.note(began, reading.orders, reading.ordersTaken);
      this.rollbackPace.note(began, reading.rollbacks ?? 0, reading.rollbacksTaken);
      this.acceptedSince -= acceptedBefore;
      this.lastError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A gap in the readings is no measure of the pace: start the window again.
      this.orderPace.reset();
      this.rollbackPace.reset();
      if (this.lastError === undefined) this.options.log.warn('backlog not readable from Kafka', { error: message });
      this.lastError = message;
    }
  }
}

/**
 * Reads the backlogs with two admin requests per topic (end offsets and committed
 * offsets). Rollback orders only on the kafka channel: behind a relay (redis, rabbitmq) the
 * rollback backlog is not read.
 */
export function kafkaBacklogReader(admin: Admin, topics: TopicNames, topicPrefix: string, channel: ChannelName): () => Promise<BacklogReading> {
  const lifecycle = consumerGroup(topicPrefix, LIFECYCLE_APP);
  const takers = consumerGroup(topicPrefix, channelNeedsRelay(channel) ? RELAY_APP : WORKERS_APP);
  const rollbackTakers = rollbackGroupOf(takers);
  return async () => {
    const [requests, orders, rollbacks] = await Promise.all([
      groupLag(admin, lifecycle, topics.requests),
      groupLag(admin, takers, topics.dispatch),
      channel === 'kafka' ? groupLag(admin, rollbackTakers, topics.rollbacks) : undefined,
    ]);
    const rollbackReading = rollbacks === undefined ? {} : { rollbacks: rollbacks.lag, rollbacksTaken: rollbacks.position };
    return { requests: requests.lag, orders: orders.lag, ordersTaken: orders.position, ...rollbackReading };
  };
}

/**
 * Records of `topic` past the group's committed offsets (lag), and the offsets it stands
 * at (position), each summed over partitions. A partition the group never committed
 * counts from the log start: both groups read from the beginning, so everything there is
 * still ahead of them. Transaction markers count too (one per transaction): a small
 * overestimate on task.dispatch.
 */
async function groupLag(admin: Admin, groupId: string, topic: string): Promise<{ lag: number; position: number }> {
  const [ends, committed] = await Promise.all([topicOffsets(admin, topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let lag = 0;
  let position = 0;
  for (const end of ends) {
    const at = done.get(end.partition) ?? -1;
    const from = at >= 0 ? at : Number(end.low);
    lag += Math.max(0, Number(end.high) - from);
    position += from;
  }
  return { lag, position };
}

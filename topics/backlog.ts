// How much work is waiting, read from Kafka every poll interval and kept, so no request
// pays for it: requests the lifecycle processor has not processed (its consumer group's
// lag on task.requests) and orders no worker has taken yet (the lag of the workers'
// group, or of the relay's on the redis channel, on task.dispatch). The API sheds
// submissions when either passes its bound (api/admission.ts); the broker refuses new
// tasks when the orders do (processors/broker/kafka/submit-admission.ts). A reading that
// stopped coming (Kafka unreachable) is reported as such, never as "no backlog".
import type { Admin } from 'kafkajs';
import type { Logger } from '../core/log.js';
import { RELAY_APP } from './channel/start-relay.js';
import { consumerGroup, LIFECYCLE_APP, type TopicNames } from './names.js';
import { WORKERS_APP } from '../workers/start-worker.js';

export interface BacklogReading {
  /** Records of task.requests the lifecycle processor has not committed past. */
  requests: number;
  /** Records of task.dispatch the workers (or the relay) have not committed past. */
  orders: number;
}

export interface BacklogState {
  /** A reading younger than the staleness limit exists, or the monitor started less than that ago. */
  fresh: boolean;
  /** The last reading, plus what this API accepted since it began (absent before the first). */
  estimate?: BacklogReading;
  /** Age of the last reading (before the first: time since start), ms. */
  ageMs?: number;
  /** Why the last poll failed, when it did. */
  error?: string;
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
    const estimate = { requests: this.reading.requests + this.acceptedSince, orders: this.reading.orders };
    return { fresh: ageMs <= this.staleAfterMs, estimate, ageMs, ...error };
  }

  private async poll(): Promise<void> {
    const began = this.clock();
    // Commands accepted from here on may or may not be in this reading: keep counting
    // them until the next one, so the estimate errs on the side of more backlog.
    const acceptedBefore = this.acceptedSince;
    try {
      const reading = await this.read();
      this.reading = { ...reading, at: began };
      this.acceptedSince -= acceptedBefore;
      this.lastError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.lastError === undefined) this.options.log.warn('backlog not readable from Kafka', { error: message });
      this.lastError = message;
    }
  }
}

/** Reads both backlogs with four admin requests (end offsets and committed offsets of two topics). */
export function kafkaBacklogReader(admin: Admin, topics: TopicNames, topicPrefix: string, channel: 'kafka' | 'redis'): () => Promise<BacklogReading> {
  const lifecycle = consumerGroup(topicPrefix, LIFECYCLE_APP);
  const takers = consumerGroup(topicPrefix, channel === 'redis' ? RELAY_APP : WORKERS_APP);
  return async () => {
    const [requests, orders] = await Promise.all([groupLag(admin, lifecycle, topics.requests), groupLag(admin, takers, topics.dispatch)]);
    return { requests, orders };
  };
}

/**
 * Records of `topic` past the group's committed offsets, summed over partitions. A
 * partition the group never committed counts from the log start: both groups read from
 * the beginning, so everything there is still ahead of them. Transaction markers count
 * too (one per transaction): a small overestimate on task.dispatch.
 */
async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let lag = 0;
  for (const end of ends) {
    const at = done.get(end.partition) ?? -1;
    const from = at >= 0 ? at : Number(end.low);
    lag += Math.max(0, Number(end.high) - from);
  }
  return lag;
}

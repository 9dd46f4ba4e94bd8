// A Faust-style stream app on kafkajs: one agent over co-partitioned input topics,
// one table per partition backed by a compacted changelog, and wall-clock timers.
// Guarantees (DESIGN.md §6): exactly once per input partition (changelog, outputs and
// input offsets in one transaction per batch, the batches of a partition's input topics
// that one fetch brings combined into one; one transactional id per partition),
// restore before processing, timers inside the transaction, read committed only, and
// no record or transient fault stops a partition: transient failures are retried with
// backoff, a record Kafka refuses is isolated and dead-lettered, and a partition left
// without a worker is restarted by itself.
import { streamMetrics, watchApp, type StreamMetrics } from './stream-metrics.js';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../../core/log.js';
import { deadLetter } from '../../topics/dead-letter.js';
import { partitionForKey } from '../../topics/partitioner.js';
import { StacklError } from '../../core/errors.js';
import { barrierKey, newBarrierId, restorePartitions, type CorruptRecord } from './changelog-restore.js';
import { coPartitionedAssigner } from './co-partitioned-assigner.js';
import { commitScope, type CommitResult, type CommitTarget } from './commit.js';
import { PartitionProducer } from './partition-producer.js';
import { PartitionRecovery } from './partition-recovery.js';
import { PartitionWorker } from './partition-worker.js';
import type { ScopeSource } from './record-scopes.js';
import type { CommitHost, Ownership } from './batch-commits.js';
import { CommitCombiner } from './commit-combiner.js';
import { StallWatch, type PartitionProgress } from './stall-watch.js';
import { fireDeadlines, type TimerSource } from './timers.js';
import { TransactionScope } from './transaction-scope.js';
import type { StreamProcessor, TableSerde } from './types.js';

export interface StreamAppOptions<V> {
  kafka: Kafka;
  /** Prometheus metrics under this app name (stream-metrics.ts); absent: none. */
  metrics?: { app: string; topicLabel: (topic: string) => string };
  /** Consumer group shared by every instance of the app. */
  groupId: string;
  inputTopics: string[];
  changelogTopic: string;
  dlqTopic: string;
  partitions: number;
  transactionalIdOf: (partition: number) => string;
  processor: StreamProcessor<V>;
  serde: TableSerde<V>;
  /** How often owned partitions are checked for due deadlines (and for a missing worker). */
  tickIntervalMs?: number;
  /** Most records (or due deadlines) per transaction. */
  maxRecordsPerTransaction?: number;
  /**
   * Input batches processed at once by this instance. Default: every input topic-partition
   * at once — a batch mostly waits on its transaction's round trips, and batches of one task
   * partition already queue behind each other, so a lower cap only left partitions idle.
   */
  concurrency?: number;
  /**
   * How long the group waits for a silent member before handing its partitions on: the
   * stall every task of a crashed instance sees. Default 30 s; shorter hands on sooner but
   * risks needless rebalances on a busy machine (Kafka's floor is 6 s).
   */
  sessionTimeoutMs?: number;
  /**
   * How long a retired key (ProcessContext.retire) is remembered before its tombstone is
   * written. 0 (the default): retire is a plain delete.
   */
  retiredWindowMs?: number;
  clock?: () => number;
  logger?: Logger;
  /**
   * Called when the consumer stopped for good (kafkajs gives up after a non-retriable
   * error). The app no longer processes anything: a role should exit so its supervisor
   * restarts it, which resumes from the last committed transaction.
   */
  onFatal?: (error: unknown) => void;
}

export interface StreamAppStats {
  records: number;
  transactions: number;
  deadlines: number;
  deadLettered: number;
  /** Transactions that failed and were tried again (transient faults, refusals). */
  retries: number;
  restoredKeys: number;
  /** Times this instance joined its group: 1 when no rebalance (a lost session among them) took its partitions away. */
  groupJoins: number;
  ownedPartitions: number[];
  liveKeys: number;
  /** Entries of the deadline indexes: never more than live keys. */
  deadlineEntries: number;
  /** Keys remembered after their retire, until their window is over. */
  retiredKeys: number;
}

export class StreamApp<V> {
  private readonly consumer: Consumer;
  private readonly workers = new Map<number, PartitionWorker<V>>();
  /** Per worker, the batches that commit together (commit-combiner.ts). */
  private readonly combiners = new WeakMap<PartitionWorker<V>, CommitCombiner<V>>();
  private assigned = new Set<number>();
  private ticker: NodeJS.Timeout | undefined;
  private readonly ticking = new Set<number>();
  /** The last high watermark fetched per "partition\0topic", for the stall watch. */
  private readonly fetched = new Map<string, bigint>();
  private readonly stallWatch: StallWatch;
  private stallCheckedAt = 0;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly recovery: PartitionRecovery;
  private joined: Promise<void>;
  private markJoined!: () => void;
  private readonly metrics: StreamMetrics | undefined;
  private unwatch: (() => void) | undefined;
  private readonly counters = { records: 0, transactions: 0, deadlines: 0, deadLettered: 0, retries: 0, restoredKeys: 0, groupJoins: 0 };
  private readonly timers: TimerSource<V>;
  private readonly target: CommitTarget<V>;
  /** What committing a batch needs of the app (batch-commits.ts). */
  private readonly host: CommitHost<V>;

  constructor(private readonly options: StreamAppOptions<V>) {
    this.log = options.logger ?? createLogger({ component: 'stream-app', group: options.groupId });
    this.clock = options.clock ?? Date.now;
    this.recovery = new PartitionRecovery(this.log, this.clock);
    this.stallWatch = new StallWatch(this.log);
    this.joined = new Promise((resolve) => (this.markJoined = resolve));
    this.metrics = options.metrics === undefined ? undefined : streamMetrics(options.metrics.app, options.metrics.topicLabel);
    this.target = {
      changelogTopic: options.changelogTopic,
      serde: options.serde,
      log: this.log,
      keepRetired: (options.retiredWindowMs ?? 0) > 0,
      ...(this.metrics === undefined ? {} : { metrics: this.metrics }),
    };
    const scopes: ScopeSource<V> = {
      processor: options.processor,
      partitions: options.partitions,
      dlqTopic: options.dlqTopic,
      groupId: options.groupId,
      log: this.log,
      now: this.clock,
      onDeadLetter: () => (this.counters.deadLettered += 1),
    };
    this.host = { scopes, target: this.target, log: this.log, counters: this.counters, survived: (worker, result) => this.survived(worker, result) };
    this.timers = { ...this.target, processor: options.processor, now: this.clock, maxPerTransaction: options.maxRecordsPerTransaction ?? 2000 };
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      // Partitions this instance serves, claimed at each rebalance so it keeps them (sticky).
      partitionAssigners: [coPartitionedAssigner(() => this.assigned)],
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: this.sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(this.sessionTimeoutMs / 3)),
      maxWaitTimeInMs: 50,
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.log.error('consumer stopped after a non-retriable error', { error: payload.error });
      options.onFatal?.(payload.error);
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.counters.groupJoins += 1;
      const numbers = new Set(Object.values(payload.memberAssignment).flat());
      this.onAssignment(numbers);
    });
  }

  private get sessionTimeoutMs(): number {
    return this.options.sessionTimeoutMs ?? 30_000;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.inputTopics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? this.options.partitions * this.options.inputTopics.length,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.ticker = setInterval(() => this.tick(), this.options.tickIntervalMs ?? 25);
    if (this.options.metrics !== undefined) this.unwatch = watchApp(this.options.metrics.app, this.options.partitions, () => this.stats());
  }

  /**
   * Resolves once the group assigned partitions to us and every one of them serves. A
   * partition whose restore fails is restarted with backoff (and logged), so this waits
   * through that too.
   */
  async ready(): Promise<void> {
    await this.joined;
    for (;;) {
      const waiting = [...this.assigned].map((p) => this.workers.get(p)).filter((w) => w?.phase !== 'ready');
      if (waiting.length === 0) return;
      const settled = waiting.map((w) => (w === undefined ? sleep(50) : w.ready.catch(() => sleep(50))));
      await Promise.race([Promise.all(settled), sleep(200)]);
    }
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.unwatch?.();
    this.assigned = new Set();
    await this.consumer.disconnect();
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    this.workers.clear();
  }

  stats(): StreamAppStats {
    let liveKeys = 0;
    let deadlineEntries = 0;
    let retiredKeys = 0;
    for (const w of this.workers.values()) {
      liveKeys += w.table.size;
      deadlineEntries += w.table.deadlineEntries;
      retiredKeys += w.table.retired.size;
    }
    return { ...this.counters, ownedPartitions: [...this.assigned].sort((a, b) => a - b), liveKeys, deadlineEntries, retiredKeys };
  }

  /** The committed value of `key`, when this instance owns its partition. */
  get(key: string): V | undefined {
    return this.workers.get(partitionForKey(key, this.options.partitions))?.table.get(key);
  }

  private onAssignment(numbers: Set<number>): void {
    for (const [partition, worker] of this.workers) {
      if (!numbers.has(partition)) {
        this.workers.delete(partition);
        void worker.close();
      }
    }
    for (const partition of numbers) if (!this.assigned.has(partition)) this.recovery.forget(partition);
    this.assigned = numbers;
    const fresh = [...numbers].filter((p) => !this.workers.get(p)?.isOpen);
    this.startWorkers(fresh);
    this.log.info('partitions assigned', { partitions: [...numbers].sort((a, b) => a - b), restoring: fresh });
    this.markJoined();
  }

  /** Starts a worker for every assigned partition that has none and whose backoff has passed. */
  private ensureWorkers(): void {
    const missing = [...this.assigned].filter((p) => !this.workers.get(p)?.isOpen && this.recovery.mayStart(p));
    this.startWorkers(missing);
  }

  private isCurrent(worker: PartitionWorker<V>): boolean {
    return worker.isOpen && this.workers.get(worker.partition) === worker && this.assigned.has(worker.partition);
  }

  /** The worker can no longer be used; the tick restarts its partition after a backoff. */
  private dropWorker(worker: PartitionWorker<V>, reason: string, error: unknown, minDelayMs = 0): void {
    if (this.workers.get(worker.partition) === worker) this.workers.delete(worker.partition);
    void worker.close();
    if (this.assigned.has(worker.partition)) this.recovery.failed(worker.partition, reason, error, minDelayMs);
  }

  /** Fence the previous owners, mark the changelog with barriers, restore, read committed offsets. */
  private startWorkers(partitions: number[]): void {
    if (partitions.length === 0) return;
    const { kafka, groupId, transactionalIdOf, processor } = this.options;
    const created = partitions.map((p) => {
      const worker = new PartitionWorker<V>(p, new PartitionProducer(kafka, p, transactionalIdOf(p), groupId), (v) => processor.deadlineOf(v));
      this.workers.set(p, worker);
      return worker;
    });
    const began = this.clock();
    void this.restoreWorkers(created).then(
      (keys) => {
        this.log.info('partitions restored', { partitions, keys, ms: this.clock() - began });
        this.metrics?.restored((this.clock() - began) / 1000);
      },
      (error: unknown) => {
        for (const worker of created) {
          if (!worker.isOpen) continue;
          worker.failed(error);
          this.dropWorker(worker, 'restore failed', error);
        }
      },
    );
  }

  /**
   * Every step checks that the worker is still the partition's: a rebalance may close it
   * meanwhile, and going on would fence the partition's new owner.
   */
  private async restoreWorkers(created: PartitionWorker<V>[]): Promise<number> {
    const { kafka, groupId, changelogTopic, serde } = this.options;
    const barriers = (
      await Promise.all(
        created.map(async (worker) => {
          await worker.producer.connect();
          if (!this.isCurrent(worker)) return undefined;
          const barrierId = newBarrierId();
          await worker.producer.commit({ records: [{ topic: changelogTopic, partition: worker.partition, key: barrierKey(worker.partition), value: Buffer.from(barrierId) }], offsets: [] });
          return { partition: worker.partition, barrierId };
        }),
      )
    ).filter((b) => b !== undefined);
    const { tables, retired, corrupt } = await restorePartitions({ kafka, topic: changelogTopic, groupId: `${groupId}-restore-${newBarrierId()}`, serde, requests: barriers });
    const offsets = await this.committedOffsets();
    let keys = 0;
    for (const worker of created) {
      if (!this.isCurrent(worker)) continue;
      await this.deadLetterCorrupt(worker, corrupt.filter((c) => c.partition === worker.partition));
      const state = tables.get(worker.partition);
      if (state) worker.table.apply(state);
      for (const [key, at] of retired.get(worker.partition) ?? []) worker.table.retired.add(key, at);
      keys += state?.size ?? 0;
      for (const topic of this.options.inputTopics) worker.nextOffsets.set(topic, offsets.get(`${topic}:${worker.partition}`) ?? 0n);
      if (!this.isCurrent(worker)) continue;
      worker.started();
      this.recovery.recovered(worker.partition);
    }
    this.counters.restoredKeys += keys;
    return keys;
  }

  /** A changelog record that does not decode is kept in the dead-letter topic; its key restores as absent. */
  private async deadLetterCorrupt(worker: PartitionWorker<V>, corrupt: CorruptRecord[]): Promise<void> {
    if (corrupt.length === 0) return;
    const reason = (c: CorruptRecord) => new StacklError('CHANGELOG_UNDECODABLE', `changelog record does not decode; its key was restored as absent: ${c.error instanceof Error ? c.error.message : String(c.error)}`);
    const records = corrupt.map((c) => deadLetter(this.options.dlqTopic, this.options.groupId, { ...c, topic: this.options.changelogTopic }, reason(c)));
    for (const c of corrupt) this.log.error('changelog record does not decode; restored its key as absent', { partition: c.partition, offset: c.offset, error: c.error });
    await worker.producer.commit({ records, offsets: [] });
    this.counters.deadLettered += corrupt.length;
  }

  /** Committed offsets read after fencing: the truth, even if the consumer fetched older ones. */
  private async committedOffsets(): Promise<Map<string, bigint>> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const result = await admin.fetchOffsets({ groupId: this.options.groupId, topics: this.options.inputTopics });
      const map = new Map<string, bigint>();
      for (const { topic, partitions } of result) {
        for (const { partition, offset } of partitions) map.set(`${topic}:${partition}`, BigInt(offset) < 0n ? 0n : BigInt(offset));
      }
      return map;
    } finally {
      await admin.disconnect();
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    this.fetched.set(`${partition}\u0000${batch.topic}`, BigInt(batch.highWatermark));
    const worker = this.workers.get(partition);
    if (worker === undefined || worker.phase !== 'ready' || !this.isCurrent(worker)) {
      this.stepAside(partition, pause);
      return;
    }
    const owns: Ownership = () => isRunning() && !isStale() && this.isCurrent(worker);
    const from = worker.nextOffsets.get(batch.topic) ?? 0n;
    const messages = batch.messages.filter((m) => BigInt(m.offset) >= from);
    const limit = this.options.maxRecordsPerTransaction ?? 2000;
    for (let i = 0; i < messages.length || i === 0; i += limit) {
      const chunk = messages.slice(i, i + limit);
      const last = i + limit >= messages.length;
      // The whole batch's last offset covers transaction markers after the last record.
      const through = last ? batch.lastOffset() : (chunk[chunk.length - 1] as KafkaMessage).offset;
      if (BigInt(through) < from) {
        resolveOffset(batch.lastOffset());
        return;
      }
      if (!(await this.combinerOf(worker).commit({ topic: batch.topic, messages: chunk, through }, owns, heartbeat))) return;
      resolveOffset(through);
      await heartbeat();
    }
  }

  /** The worker's combiner, made on first use (a worker's batches combine only with its own). */
  private combinerOf(worker: PartitionWorker<V>): CommitCombiner<V> {
    let combiner = this.combiners.get(worker);
    if (combiner === undefined) {
      combiner = new CommitCombiner(this.host, worker, this.options.maxRecordsPerTransaction ?? 2000);
      this.combiners.set(worker, combiner);
    }
    return combiner;
  }

  /**
   * A partition without a ready worker (restoring, or waiting out a restart's backoff)
   * stops fetching until it has one, and its batch is left unresolved to be fetched again.
   * Waiting here instead stalled every partition of this instance: kafkajs fetches again
   * only once every batch of the last fetch is done, and a restore takes seconds to minutes.
   */
  private stepAside(partition: number, pause: () => void): void {
    if (!this.assigned.has(partition)) return;
    if (!this.workers.get(partition)?.isOpen && this.recovery.mayStart(partition)) this.startWorkers([partition]);
    pause();
  }

  /**
   * Fetching starts again for partitions whose worker is ready, or that are no longer ours.
   * Only stepAside pauses this consumer, so what kafkajs holds paused is the list; while it
   * restarts its consumer it holds none (the new one starts unpaused).
   */
  private resumeReady(): void {
    for (const { topic, partitions } of this.consumer.paused()) {
      const done = partitions.filter((partition) => {
        const worker = this.workers.get(partition);
        return !this.assigned.has(partition) || (worker?.phase === 'ready' && this.isCurrent(worker));
      });
      if (done.length > 0) this.consumer.resume([{ topic, partitions: done }]);
    }
  }

  /** False when the worker is gone after this result (fenced, or rebuilt after an unknown outcome). */
  private survived(worker: PartitionWorker<V>, result: CommitResult): boolean {
    if (result.ok) return true;
    if (result.kind === 'fenced') {
      // Another instance holds the partition. Wait before taking it back: if we are the
      // stale one, our consumer learns of the rebalance meanwhile and gives the partition up.
      this.dropWorker(worker, 'fenced by another instance', result.error, Math.floor(this.sessionTimeoutMs / 3));
      return false;
    }
    if (result.kind === 'unknown') {
      // Memory may hold less than the log: rebuild the way a new owner would.
      this.dropWorker(worker, 'commit outcome unknown; rebuilding from the log', result.error);
      return false;
    }
    return true;
  }

  private tick(): void {
    this.ensureWorkers();
    this.resumeReady();
    const now = this.clock();
    if (now - this.stallCheckedAt >= 1_000) {
      this.stallCheckedAt = now;
      this.stallWatch.check(now, this.progress());
    }
    for (const worker of this.workers.values()) {
      if (worker.phase !== 'ready' || this.ticking.has(worker.partition)) continue;
      const next = worker.table.nextDeadline();
      const timersDue = next !== undefined && next <= now && now >= worker.timersPausedUntil;
      const sweepDue = worker.table.retired.size > 0 && now >= worker.nextSweepAt;
      if (!timersDue && !sweepDue) continue;
      this.ticking.add(worker.partition);
      worker
        .exclusive(async () => {
          if (timersDue) await this.fireTimers(worker);
          if (sweepDue) await this.sweepRetired(worker);
        })
        .catch((error: unknown) => this.log.error('timer transaction failed; will retry', { partition: worker.partition, error }))
        .finally(() => this.ticking.delete(worker.partition));
    }
  }

  /** Where each owned partition stands, for the stall watch. */
  private progress(): PartitionProgress[] {
    return [...this.assigned].map((partition) => {
      const worker = this.workers.get(partition);
      const ready = worker?.phase === 'ready' && this.isCurrent(worker);
      const inputs = this.options.inputTopics.map((topic) => {
        const highWatermark = this.fetched.get(`${partition}\u0000${topic}`);
        const next = worker?.nextOffsets.get(topic);
        return { topic, ...(highWatermark === undefined ? {} : { highWatermark }), ...(next === undefined ? {} : { next }) };
      });
      const state = ready ? 'ready' : worker?.isOpen ? 'restoring' : `waiting to restart: ${this.recovery.reasonOf(partition) ?? 'no worker yet'}`;
      return { partition, state, busySince: worker?.busySince, lastCommitAt: worker?.lastCommitAt, inputs };
    });
  }

  /** Writes the tombstones of retired keys whose window is over, so compaction forgets them. */
  private async sweepRetired(worker: PartitionWorker<V>): Promise<void> {
    if (!this.isCurrent(worker)) return;
    const now = this.clock();
    const window = this.options.retiredWindowMs ?? 0;
    const limit = this.options.maxRecordsPerTransaction ?? 2000;
    const expired = worker.table.retired.expired(now - window, limit);
    // A full sweep scans the whole index: once a minute (or a hundredth of the window) is plenty.
    worker.nextSweepAt = now + (expired.length === limit ? 0 : Math.min(60_000, Math.max(1_000, Math.floor(window / 100))));
    if (expired.length === 0) return;
    const scope = new TransactionScope<V>(worker.table, worker.partition, now);
    for (const key of expired) scope.staged.set(key, null);
    const result = await commitScope(this.target, worker, scope, []);
    if (result.ok) this.counters.transactions += 1;
    else {
      this.counters.retries += 1;
      worker.nextSweepAt = now + 1_000;
      this.survived(worker, result);
    }
  }

  private async fireTimers(worker: PartitionWorker<V>): Promise<void> {
    if (!this.isCurrent(worker)) return;
    const { fired, result } = await fireDeadlines(this.timers, worker);
    this.counters.deadlines += fired;
    if (result === null) return;
    if (result.ok) this.counters.transactions += 1;
    else {
      this.counters.retries += 1;
      this.survived(worker, result);
    }
  }
}

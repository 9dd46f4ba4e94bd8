// A Faust-style stream app on kafkajs: one agent over co-partitioned input topics,
// one table per partition backed by a compacted changelog, and wall-clock timers.
// Guarantees (DESIGN.md §6): exactly once per input partition (changelog, outputs and
// input offsets in one transaction per batch, one transactional id per partition),
// restore before processing, timers inside the transaction, read committed only.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { createLogger, type Logger } from '../../core/log.js';
import { isStacklError, StacklError } from '../../core/errors.js';
import { coPartitionedAssigner } from './co-partitioned-assigner.js';
import { barrierKey, newBarrierId, restorePartitions } from './changelog-restore.js';
import { deadLetter } from '../../topics/dead-letter.js';
import { CommitOutcomeUnknownError, FencedError, PartitionProducer } from './partition-producer.js';
import { PartitionWorker } from './partition-worker.js';
import { partitionForKey } from '../../topics/partitioner.js';
import { TransactionScope } from './transaction-scope.js';
import type { InputRecord, OutputRecord, StreamProcessor, TableSerde } from './types.js';

export interface StreamAppOptions<V> {
  kafka: Kafka;
  /** Consumer group shared by every instance of the app. */
  groupId: string;
  inputTopics: string[];
  changelogTopic: string;
  dlqTopic: string;
  partitions: number;
  transactionalIdOf: (partition: number) => string;
  processor: StreamProcessor<V>;
  serde: TableSerde<V>;
  /** How often owned partitions are checked for due deadlines. */
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
  restoredKeys: number;
  ownedPartitions: number[];
  liveKeys: number;
}

export class StreamApp<V> {
  private readonly consumer: Consumer;
  private readonly workers = new Map<number, PartitionWorker<V>>();
  private assigned = new Set<number>();
  private ticker: NodeJS.Timeout | undefined;
  private readonly ticking = new Set<number>();
  private readonly log: Logger;
  private readonly clock: () => number;
  private joined: Promise<void>;
  private markJoined!: () => void;
  private readonly counters = { records: 0, transactions: 0, deadlines: 0, deadLettered: 0, restoredKeys: 0 };

  constructor(private readonly options: StreamAppOptions<V>) {
    this.log = options.logger ?? createLogger({ component: 'stream-app', group: options.groupId });
    this.clock = options.clock ?? Date.now;
    this.joined = new Promise((resolve) => (this.markJoined = resolve));
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      partitionAssigners: [coPartitionedAssigner],
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
      maxWaitTimeInMs: 50,
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.log.error('consumer stopped after a non-retriable error', { error: payload.error });
      options.onFatal?.(payload.error);
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const numbers = new Set(Object.values(payload.memberAssignment).flat());
      this.onAssignment(numbers);
    });
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
  }

  /** Resolves once the group assigned partitions to us and all of them are restored. */
  async ready(): Promise<void> {
    await this.joined;
    await Promise.all([...this.workers.values()].map((w) => w.ready));
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await this.consumer.disconnect();
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    this.workers.clear();
  }

  stats(): StreamAppStats {
    let liveKeys = 0;
    for (const w of this.workers.values()) liveKeys += w.table.size;
    return { ...this.counters, ownedPartitions: [...this.assigned].sort((a, b) => a - b), liveKeys };
  }

  /** The committed value of `key`, when this instance owns its partition. */
  get(key: string): V | undefined {
    return this.workers.get(partitionForKey(key, this.options.partitions))?.table.get(key);
  }

  private onAssignment(numbers: Set<number>): void {
    this.assigned = numbers;
    for (const [partition, worker] of this.workers) {
      if (!numbers.has(partition)) {
        this.workers.delete(partition);
        void worker.close();
      }
    }
    const fresh = [...numbers].filter((p) => !this.workers.get(p)?.isOpen);
    this.startWorkers(fresh);
    this.log.info('partitions assigned', { partitions: [...numbers].sort((a, b) => a - b), restoring: fresh });
    this.markJoined();
  }

  /** Fence the previous owners, mark the changelog with barriers, restore, read committed offsets. */
  private startWorkers(partitions: number[]): void {
    if (partitions.length === 0) return;
    const { kafka, groupId, transactionalIdOf, processor, changelogTopic } = this.options;
    const created = partitions.map((p) => {
      const worker = new PartitionWorker<V>(p, new PartitionProducer(kafka, p, transactionalIdOf(p), groupId), (v) => processor.deadlineOf(v));
      this.workers.set(p, worker);
      return worker;
    });
    const began = this.clock();
    void (async () => {
      const barriers = await Promise.all(
        created.map(async (worker) => {
          await worker.producer.connect();
          const barrierId = newBarrierId();
          await worker.producer.commit({ records: [{ topic: changelogTopic, partition: worker.partition, key: barrierKey(worker.partition), value: Buffer.from(barrierId) }], offsets: [] });
          return { partition: worker.partition, barrierId };
        }),
      );
      const restored = await restorePartitions({
        kafka,
        topic: changelogTopic,
        groupId: `${groupId}-restore-${newBarrierId()}`,
        serde: this.options.serde,
        requests: barriers,
      });
      const offsets = await this.committedOffsets();
      for (const worker of created) {
        const state = restored.get(worker.partition);
        if (state) worker.table.apply(state);
        this.counters.restoredKeys += state?.size ?? 0;
        for (const topic of this.options.inputTopics) worker.nextOffsets.set(topic, offsets.get(`${topic}:${worker.partition}`) ?? 0n);
        if (worker.isOpen) worker.started();
      }
      this.log.info('partitions restored', { partitions, keys: [...restored.values()].reduce((n, s) => n + s.size, 0), ms: this.clock() - began });
    })().catch((error: unknown) => {
      this.log.error('restoring partitions failed; they will be retried on the next batch', { partitions, error });
      for (const worker of created) {
        worker.failed(error);
        void worker.producer.disconnect();
      }
    });
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

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    if (!this.assigned.has(partition)) return;
    let worker = this.workers.get(partition);
    if (worker === undefined || !worker.isOpen) {
      this.startWorkers([partition]);
      worker = this.workers.get(partition) as PartitionWorker<V>;
    }
    await waitWithHeartbeat(worker.ready, heartbeat);
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
      const committed = await worker.exclusive(async () => {
        if (!isRunning() || isStale() || !worker.isOpen || !this.assigned.has(partition)) return false;
        return this.commitRecords(worker, batch.topic, chunk, through);
      });
      if (!committed) return;
      resolveOffset(through);
      await heartbeat();
    }
  }

  private async commitRecords(worker: PartitionWorker<V>, topic: string, messages: KafkaMessage[], through: string): Promise<boolean> {
    const scope = new TransactionScope<V>(worker.table, worker.partition, this.clock());
    for (const message of messages) {
      const record: InputRecord = { topic, partition: worker.partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {}, timestamp: message.timestamp };
      const child = scope.child();
      try {
        this.checkKey(record);
        await this.options.processor.onRecord(child, record);
        child.merge();
      } catch (error) {
        if (isStacklError(error) && error.retriable) throw error;
        this.counters.deadLettered += 1;
        scope.outputs.push(deadLetter(this.options.dlqTopic, this.options.groupId, record, error));
        this.log.warn('record dead-lettered', { topic, partition: worker.partition, offset: message.offset, error });
      }
    }
    const next = BigInt(through) + 1n;
    const ok = await this.commitScope(worker, scope, [{ topic, partition: worker.partition, offset: next.toString() }]);
    if (ok) {
      worker.nextOffsets.set(topic, next);
      this.counters.records += messages.length;
    }
    return ok;
  }

  /** Commits staged writes, outputs and offsets; applies the writes to memory only after. */
  private async commitScope(worker: PartitionWorker<V>, scope: TransactionScope<V>, offsets: { topic: string; partition: number; offset: string }[]): Promise<boolean> {
    const changelog: OutputRecord[] = [...scope.staged].map(([key, value]) => ({
      topic: this.options.changelogTopic,
      partition: worker.partition,
      key,
      value: value === null ? null : this.options.serde.encode(value),
    }));
    try {
      await worker.producer.commit({ records: [...changelog, ...scope.outputs], offsets });
    } catch (error) {
      if (error instanceof FencedError) {
        this.log.warn('partition fenced by a newer owner; dropping it', { partition: worker.partition });
        this.workers.delete(worker.partition);
        void worker.close();
        return false;
      }
      // The commit may have reached the broker before the connection broke (seen in the
      // chaos suite during a Kafka restart). Memory can no longer be trusted, so the
      // partition is rebuilt the way a new owner builds it: fence, restore the changelog,
      // re-read committed offsets. Redoing the records from memory wrote events twice.
      if (error instanceof CommitOutcomeUnknownError) {
        this.log.warn('commit outcome unknown; rebuilding the partition from the log', { partition: worker.partition, error });
        this.rebuild(worker);
      }
      throw error;
    }
    worker.table.apply(scope.staged);
    this.counters.transactions += 1;
    return true;
  }

  private rebuild(worker: PartitionWorker<V>): void {
    if (this.workers.get(worker.partition) !== worker) return;
    this.workers.delete(worker.partition);
    void worker.close();
    if (this.assigned.has(worker.partition)) this.startWorkers([worker.partition]);
  }

  private checkKey(record: InputRecord): void {
    if (record.key === null) throw new StacklError('RECORD_WITHOUT_KEY', 'input records must be keyed by task id');
    const expected = partitionForKey(record.key, this.options.partitions);
    if (expected !== record.partition) {
      throw new StacklError('WRONG_PARTITION', `key belongs to partition ${expected}, found on ${record.partition}: produce with Kafka's default (murmur2) partitioner`);
    }
  }

  private tick(): void {
    const now = this.clock();
    for (const worker of this.workers.values()) {
      if (worker.phase !== 'ready' || this.ticking.has(worker.partition)) continue;
      const next = worker.table.nextDeadline();
      if (next === undefined || next > now) continue;
      this.ticking.add(worker.partition);
      worker
        .exclusive(() => this.fireDeadlines(worker))
        .catch((error: unknown) => this.log.error('timer transaction failed; will retry', { partition: worker.partition, error }))
        .finally(() => this.ticking.delete(worker.partition));
    }
  }

  private async fireDeadlines(worker: PartitionWorker<V>): Promise<void> {
    if (!worker.isOpen || !this.assigned.has(worker.partition)) return;
    const scope = new TransactionScope<V>(worker.table, worker.partition, this.clock());
    const due = worker.table.takeDue(scope.now, this.options.maxRecordsPerTransaction ?? 2000);
    for (const key of due) {
      const child = scope.child();
      try {
        await this.options.processor.onDeadline(child, key);
        child.merge();
      } catch (error) {
        this.log.error('deadline handler failed', { key, error });
      }
    }
    let ok = false;
    try {
      ok = await this.commitScope(worker, scope, []);
    } finally {
      // Popped but not committed: put them back so they fire again.
      if (!ok) worker.table.requeue(due);
    }
    if (ok) this.counters.deadlines += due.length;
  }
}

async function waitWithHeartbeat(ready: Promise<void>, heartbeat: () => Promise<void>): Promise<void> {
  let settled = false;
  const done = ready.finally(() => (settled = true));
  while (!settled) {
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 1000))]);
    if (!settled) await heartbeat();
  }
  await done;
}

// Everything one instance holds for one owned task partition: its table (restored
// from the changelog), its transactional producer, the next offset of each input topic
// as of the last commit, and a queue that runs its transactions one after another
// (record batches of several input topics and timer firings share the partition).
import type { PartitionProducer } from './partition-producer.js';
import { PartitionTable } from './table.js';

export type WorkerPhase = 'starting' | 'ready' | 'closed';

export class PartitionWorker<V> {
  phase: WorkerPhase = 'starting';
  readonly table: PartitionTable<V>;
  /** Next offset to process per input topic, as committed by our own transactions. */
  readonly nextOffsets = new Map<string, bigint>();
  /** Timer bookkeeping (timers.ts): how often each key's handler failed in a row. */
  readonly timerFailures = new Map<string, number>();
  /** Keys whose timer transaction Kafka refused, how often, and the last refusal. */
  readonly timerRefusals = new Map<string, { count: number; error: unknown }>();
  /** After a timer transaction failed: no timer transaction before this time. */
  timersPausedUntil = 0;
  /** Timer transactions that failed in a row (transient errors). */
  timerStreak = 0;
  /** When retired keys are next checked for the end of their window. */
  nextSweepAt = 0;
  /** Timer transactions run one key at a time until the due keys are through (a refusal isolates its key). */
  timersIsolated = false;
  /** When the transaction running now began (undefined when none runs): the stall watch reads it. */
  busySince: number | undefined;
  /** When the partition last committed, or became ready. */
  lastCommitAt: number | undefined;
  ready: Promise<void>;
  private markReady!: () => void;
  private markFailed!: (error: unknown) => void;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly partition: number,
    readonly producer: PartitionProducer,
    deadlineOf: (value: V) => number | null,
  ) {
    this.table = new PartitionTable(deadlineOf);
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.markFailed = reject;
    });
    // A start-up failure is reported to whoever awaits `ready`; never unhandled.
    this.ready.catch(() => {});
  }

  get isOpen(): boolean {
    return this.phase !== 'closed';
  }

  started(): void {
    this.lastCommitAt = Date.now();
    this.phase = 'ready';
    this.markReady();
  }

  failed(error: unknown): void {
    this.phase = 'closed';
    this.markFailed(error);
  }

  /** Runs `work` after every transaction queued before it on this partition. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const timed = async (): Promise<T> => {
      this.busySince = Date.now();
      try {
        return await work();
      } finally {
        this.busySince = undefined;
      }
    };
    const run = this.queue.then(timed, timed);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Waits for the transaction in flight, then releases the producer. */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.markFailed(new Error(`partition ${this.partition} closed`));
    await this.queue;
    await this.producer.disconnect();
  }
}

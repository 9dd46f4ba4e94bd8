// One transaction for what one fetch brought a partition. kafkajs hands each input
// topic's batch over on its own, at the same moment, and each used to commit in a
// transaction of its own: the second one met CONCURRENT_TRANSACTIONS behind the first
// and waited a retry, and every hop through the broker paid for two transactions (issue 18).
// Batches that arrive while none is being committed wait one turn of the event loop for
// their siblings, then commit together; one part per topic, at most a transaction's worth
// of records in all.
import type { BatchPart, CommitHost, Ownership } from './batch-commits.js';
import { commitParts } from './batch-commits.js';
import type { PartitionWorker } from './partition-worker.js';

interface Waiting {
  part: BatchPart;
  owns: Ownership;
  heartbeat: () => Promise<void>;
  resolve: (committed: boolean) => void;
  reject: (error: unknown) => void;
}

export class CommitCombiner<V> {
  private waiting: Waiting[] = [];
  private flushing = false;

  constructor(
    private readonly host: CommitHost<V>,
    private readonly worker: PartitionWorker<V>,
    private readonly maxRecords: number,
  ) {}

  /** Resolves as commitParts would for this part alone: false when the partition is no longer ours. */
  commit(part: BatchPart, owns: Ownership, heartbeat: () => Promise<void>): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ part, owns, heartbeat, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const group = this.take();
        const first = group[0] as Waiting;
        try {
          const committed = await commitParts(this.host, this.worker, group.map((w) => w.part), () => group.every((w) => w.owns()), first.heartbeat);
          for (const w of group) w.resolve(committed);
        } catch (error) {
          for (const w of group) w.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The oldest waiting part, and those after it of other topics while they fit in one transaction. */
  private take(): Waiting[] {
    const group: Waiting[] = [];
    const rest: Waiting[] = [];
    let records = 0;
    for (const w of this.waiting) {
      const fits = group.length === 0 || (records + w.part.messages.length <= this.maxRecords && !group.some((g) => g.part.topic === w.part.topic));
      if (fits) {
        group.push(w);
        records += w.part.messages.length;
      } else rest.push(w);
    }
    this.waiting = rest;
    return group;
  }
}

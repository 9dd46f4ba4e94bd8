// Says in the log when an owned partition stops moving, and why as far as the app can
// tell: it has no ready worker (restoring, or waiting to restart), one transaction of it
// has run for long, or records wait on an input topic and nothing was committed for long.
// A chaos run once showed brokers minutes behind on task.requests with not one log line
// saying so; this is that line. Quiet while partitions move.
import type { Logger } from '../../core/log.js';

/** What the watch reads of one partition. */
export interface PartitionProgress {
  partition: number;
  /** 'ready', or why there is no ready worker. */
  state: string;
  /** When its current transaction began, if one runs. */
  busySince?: number;
  /** When it last committed (or became ready). */
  lastCommitAt?: number;
  /** Per input topic: the last high watermark fetched and the next offset to process. */
  inputs: { topic: string; highWatermark?: bigint; next?: bigint }[];
}

export const STALL_AFTER_MS = 30_000;
/** One report at most this often, listing every stalled partition. */
const REPORT_EVERY_MS = 30_000;

export class StallWatch {
  private reportedAt = Number.NEGATIVE_INFINITY;
  /** When each partition was first seen without a ready worker, in this spell. */
  private readonly notReadySince = new Map<number, number>();

  constructor(private readonly log: Logger) {}

  /** Stalled partitions at `now`, each with why; empty while everything moves. */
  stalled(now: number, partitions: readonly PartitionProgress[]): Record<string, unknown>[] {
    const found: Record<string, unknown>[] = [];
    const seen = new Set<number>();
    for (const p of partitions) {
      seen.add(p.partition);
      if (p.state !== 'ready') {
        const since = this.notReadySince.get(p.partition) ?? now;
        this.notReadySince.set(p.partition, since);
        if (now - since >= STALL_AFTER_MS) found.push({ partition: p.partition, why: p.state, forMs: now - since });
        continue;
      }
      this.notReadySince.delete(p.partition);
      if (p.busySince !== undefined && now - p.busySince >= STALL_AFTER_MS) {
        found.push({ partition: p.partition, why: 'one transaction has run for long', forMs: now - p.busySince });
        continue;
      }
      const behind = p.inputs.filter((i) => i.highWatermark !== undefined && i.next !== undefined && i.highWatermark > i.next);
      const idleMs = p.lastCommitAt === undefined ? 0 : now - p.lastCommitAt;
      if (behind.length > 0 && idleMs >= STALL_AFTER_MS) {
        const waiting = Object.fromEntries(behind.map((i) => [i.topic, Number((i.highWatermark ?? 0n) - (i.next ?? 0n))]));
        found.push({ partition: p.partition, why: 'records wait and nothing was committed', forMs: idleMs, waiting });
      }
    }
    for (const partition of this.notReadySince.keys()) if (!seen.has(partition)) this.notReadySince.delete(partition);
    return found;
  }

  /** Logs the stalled partitions, at most once per REPORT_EVERY_MS. */
  check(now: number, partitions: readonly PartitionProgress[]): void {
    const found = this.stalled(now, partitions);
    if (found.length === 0 || now - this.reportedAt < REPORT_EVERY_MS) return;
    this.reportedAt = now;
    this.log.warn('partitions not moving', { stalled: found });
  }
}

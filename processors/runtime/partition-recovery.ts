// Every assigned partition must come back to a working state by itself: after a failed
// restore, a crashed restore consumer, a fencing, a commit whose outcome is unknown. This
// keeps, per partition left without a worker, why, how often, and when to try again, so
// the app's tick can restart it with backoff and the log says what happened.
import type { Logger } from '../../core/log.js';

interface Pending {
  attempts: number;
  nextAt: number;
  reason: string;
}

const MAX_BACKOFF_MS = 10_000;

export class PartitionRecovery {
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly log: Logger,
    private readonly clock: () => number,
  ) {}

  /** The partition lost its worker for `reason`; no restart before `minDelayMs`. */
  failed(partition: number, reason: string, error?: unknown, minDelayMs = 0): void {
    const attempts = (this.pending.get(partition)?.attempts ?? 0) + 1;
    const delay = Math.max(minDelayMs, Math.min(100 * 2 ** (attempts - 1), MAX_BACKOFF_MS));
    this.pending.set(partition, { attempts, nextAt: this.clock() + delay, reason });
    this.log.warn('partition left without a working state; it will be restarted', { partition, reason, attempt: attempts, restartInMs: delay, error });
  }

  mayStart(partition: number): boolean {
    const entry = this.pending.get(partition);
    return entry === undefined || this.clock() >= entry.nextAt;
  }

  /** Why the partition waits to restart, if it does. */
  reasonOf(partition: number): string | undefined {
    return this.pending.get(partition)?.reason;
  }

  /** The partition restored and serves again. */
  recovered(partition: number): void {
    const entry = this.pending.get(partition);
    if (entry === undefined) return;
    this.pending.delete(partition);
    this.log.info('partition recovered', { partition, after: entry.reason, attempts: entry.attempts });
  }

  /** A fresh assignment starts the partition at once, whatever happened before. */
  forget(partition: number): void {
    this.pending.delete(partition);
  }
}

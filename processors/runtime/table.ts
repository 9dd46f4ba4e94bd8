// One partition's table: the live values and when each is next due. Nothing reaches the
// live map before the transaction that wrote it has committed, so an aborted transaction
// leaves no trace in memory. A due key leaves the deadline index only while its timer
// transaction runs: it comes back unless that transaction committed its effect.
import { DeadlineHeap } from './deadline-heap.js';
import { RetiredKeys } from './retired-keys.js';

/** `null` in a staged map means "deleted" (a changelog tombstone). */
export type Staged<V> = Map<string, V | null>;

export class PartitionTable<V> {
  private readonly values = new Map<string, V>();
  private readonly deadlines = new DeadlineHeap();
  /** Keys deleted with retire(), remembered until their retention window is over. */
  readonly retired = new RetiredKeys();

  constructor(private readonly deadlineOf: (value: V) => number | null) {}

  get size(): number {
    return this.values.size;
  }

  /** Entries in the deadline index: never more than live keys. */
  get deadlineEntries(): number {
    return this.deadlines.size;
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  isRetired(key: string): boolean {
    return this.retired.size > 0 && this.retired.has(key);
  }

  /**
   * Restore and commit both land here; both keep the deadline index in step. `retiring`
   * (keys whose delete is a retire, and when) moves those keys to the retired index.
   */
  apply(changes: Staged<V>, retiring?: ReadonlyMap<string, number>): void {
    for (const [key, value] of changes) {
      if (this.retired.size > 0) this.retired.delete(key);
      if (value === null) {
        this.values.delete(key);
        this.deadlines.delete(key);
        const at = retiring?.get(key);
        if (at !== undefined) this.retired.add(key, at);
        continue;
      }
      this.values.set(key, value);
      this.schedule(key, this.deadlineOf(value));
    }
  }

  /**
   * Takes out of the index the keys due at `now`, earliest first, at most `limit`. The caller
   * must hand each back: `apply` (its transaction changed it), `retryAt` (its handler failed),
   * `putBack` (the transaction did not commit), or nothing when it committed no change.
   */
  takeDue(now: number, limit: number): string[] {
    const due: string[] = [];
    while (due.length < limit) {
      const head = this.deadlines.peek();
      if (head === undefined || head.at > now) break;
      this.deadlines.pop();
      due.push(head.key);
    }
    return due;
  }

  /** The earliest time a key is due. */
  nextDeadline(): number | undefined {
    return this.deadlines.peek()?.at;
  }

  /** Puts keys back at their own deadlines: their timer transaction did not commit. */
  putBack(keys: Iterable<string>): void {
    for (const key of keys) {
      const value = this.values.get(key);
      if (value !== undefined) this.schedule(key, this.deadlineOf(value));
    }
  }

  /** Looks at `key` again at `at`, whatever its deadline: its handler failed and will be retried. */
  retryAt(key: string, at: number): void {
    if (this.values.has(key)) this.deadlines.set(key, at);
  }

  private schedule(key: string, at: number | null): void {
    if (at === null) this.deadlines.delete(key);
    else this.deadlines.set(key, at);
  }
}

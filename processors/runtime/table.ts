// One partition's table: the live values, their deadlines, and the staging area of
// the transaction in flight. Nothing reaches the live map before the transaction that
// wrote it has committed, so an aborted transaction leaves no trace in memory.
import { DeadlineHeap } from './deadline-heap.js';

/** `null` in a staged map means "deleted" (a changelog tombstone). */
export type Staged<V> = Map<string, V | null>;

export class PartitionTable<V> {
  private readonly values = new Map<string, V>();
  readonly deadlines = new DeadlineHeap();

  constructor(private readonly deadlineOf: (value: V) => number | null) {}

  get size(): number {
    return this.values.size;
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  /** Restore and commit both land here; both keep the deadline index in step. */
  apply(changes: Staged<V>): void {
    for (const [key, value] of changes) {
      if (value === null) {
        this.values.delete(key);
        continue;
      }
      this.values.set(key, value);
      const at = this.deadlineOf(value);
      if (at !== null) this.deadlines.push({ at, key });
    }
  }

  /** Keys whose current deadline is at or before `now`, oldest first, at most `limit`. */
  takeDue(now: number, limit: number): string[] {
    const due: string[] = [];
    const seen = new Set<string>();
    while (due.length < limit) {
      const head = this.deadlines.peek();
      if (head === undefined || head.at > now) break;
      this.deadlines.pop();
      const value = this.values.get(head.key);
      // A stale entry: the key's deadline moved or the key is gone.
      if (value === undefined || this.deadlineOf(value) !== head.at || seen.has(head.key)) continue;
      seen.add(head.key);
      due.push(head.key);
    }
    return due;
  }

  /** The earliest pending deadline, skipping stale heads. */
  nextDeadline(): number | undefined {
    for (;;) {
      const head = this.deadlines.peek();
      if (head === undefined) return undefined;
      const value = this.values.get(head.key);
      if (value !== undefined && this.deadlineOf(value) === head.at) return head.at;
      this.deadlines.pop();
    }
  }

  /** Puts keys taken by `takeDue` back when their transaction did not commit. */
  requeue(keys: string[]): void {
    for (const key of keys) {
      const value = this.values.get(key);
      const at = value === undefined ? null : this.deadlineOf(value);
      if (at !== null) this.deadlines.push({ at, key });
    }
  }
}

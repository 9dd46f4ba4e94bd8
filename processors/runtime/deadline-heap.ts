// A binary min-heap of (time, key) with at most one entry per key: the per-partition timer
// index. A key's entry moves when its time changes and leaves when it is deleted, so the
// heap never holds more entries than live keys (a heartbeat that leaves the deadline where
// it was costs nothing; the lazy-deletion heap this replaces grew by one entry per update).

export interface DeadlineEntry {
  at: number;
  key: string;
}

export class DeadlineHeap {
  private readonly items: DeadlineEntry[] = [];
  /** Where each key's entry sits in `items`. */
  private readonly index = new Map<string, number>();

  get size(): number {
    return this.items.length;
  }

  peek(): DeadlineEntry | undefined {
    return this.items[0];
  }

  /** When `key` is due, if it has an entry. */
  timeOf(key: string): number | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.items[i]?.at;
  }

  /** Sets (or moves) the entry of `key` to `at`. */
  set(key: string, at: number): void {
    const i = this.index.get(key);
    if (i === undefined) {
      this.items.push({ at, key });
      this.index.set(key, this.items.length - 1);
      this.up(this.items.length - 1);
      return;
    }
    const entry = this.items[i] as DeadlineEntry;
    if (entry.at === at) return;
    const earlier = at < entry.at;
    entry.at = at;
    if (earlier) this.up(i);
    else this.down(i);
  }

  delete(key: string): void {
    const i = this.index.get(key);
    if (i === undefined) return;
    this.index.delete(key);
    const last = this.items.pop() as DeadlineEntry;
    if (i === this.items.length) return;
    this.items[i] = last;
    this.index.set(last.key, i);
    this.up(i);
    this.down(this.index.get(last.key) as number);
  }

  pop(): DeadlineEntry | undefined {
    const top = this.items[0];
    if (top !== undefined) this.delete(top.key);
    return top;
  }

  private up(start: number): void {
    const items = this.items;
    let i = start;
    const entry = items[i] as DeadlineEntry;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent] as DeadlineEntry;
      if (above.at <= entry.at) break;
      items[i] = above;
      this.index.set(above.key, i);
      i = parent;
    }
    items[i] = entry;
    this.index.set(entry.key, i);
  }

  private down(start: number): void {
    const items = this.items;
    let i = start;
    const entry = items[i] as DeadlineEntry;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as DeadlineEntry).at < (items[left] as DeadlineEntry).at ? right : left;
      const below = items[child] as DeadlineEntry;
      if (below.at >= entry.at) break;
      items[i] = below;
      this.index.set(below.key, i);
      i = child;
    }
    items[i] = entry;
    this.index.set(entry.key, i);
  }
}

// A binary min-heap of (time, key): the per-partition timer index. Entries are never
// removed when a deadline changes; the runtime compares a popped entry with the key's
// current deadline and drops it when they differ (lazy deletion keeps updates O(log n)).

export interface DeadlineEntry {
  at: number;
  key: string;
}

export class DeadlineHeap {
  private readonly items: DeadlineEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): DeadlineEntry | undefined {
    return this.items[0];
  }

  push(entry: DeadlineEntry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as DeadlineEntry).at <= entry.at) break;
      items[i] = items[parent] as DeadlineEntry;
      i = parent;
    }
    items[i] = entry;
  }

  pop(): DeadlineEntry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as DeadlineEntry).at < (items[left] as DeadlineEntry).at ? right : left;
      if ((items[child] as DeadlineEntry).at >= last.at) break;
      items[i] = items[child] as DeadlineEntry;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

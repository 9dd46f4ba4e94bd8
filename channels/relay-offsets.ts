// Which offsets of task.dispatch the relay may commit: only up to the first order not
// yet acknowledged by a worker. If Redis loses its contents (it may keep nothing on
// disk), the relay rewinds to these offsets and pushes the unacknowledged orders again.

export class RelayOffsets {
  private readonly pending = new Map<number, Set<bigint>>();
  private readonly fetchedThrough = new Map<number, bigint>();
  private readonly committed = new Map<number, bigint>();

  pushed(partition: number, offsets: bigint[], batchEnd: bigint): void {
    const set = this.pending.get(partition) ?? new Set<bigint>();
    for (const offset of offsets) set.add(offset);
    this.pending.set(partition, set);
    this.fetchedThrough.set(partition, batchEnd);
  }

  acked(partition: number, offset: bigint): void {
    this.pending.get(partition)?.delete(offset);
  }

  /** Offsets that moved since the last call: the next offset to read per partition. */
  committable(): { partition: number; offset: bigint }[] {
    const moves: { partition: number; offset: bigint }[] = [];
    for (const [partition, through] of this.fetchedThrough) {
      let offset = through;
      for (const pending of this.pending.get(partition) ?? []) if (pending < offset) offset = pending;
      if (offset !== this.committed.get(partition)) {
        this.committed.set(partition, offset);
        moves.push({ partition, offset });
      }
    }
    return moves;
  }

  /** Where to resume a partition after Redis lost its contents: its first unacknowledged order. */
  rewindPoint(partition: number): bigint | undefined {
    let offset = this.fetchedThrough.get(partition);
    for (const pending of this.pending.get(partition) ?? []) if (offset === undefined || pending < offset) offset = pending;
    return offset;
  }

  forget(partition: number): void {
    this.pending.delete(partition);
    this.fetchedThrough.delete(partition);
    this.committed.delete(partition);
  }

  partitions(): number[] {
    return [...this.fetchedThrough.keys()];
  }
}

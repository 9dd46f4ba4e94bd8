// The orders of one partition a worker has started and not yet settled. Orders run side
// by side, so a slow one (a stack waiting on its agent) no longer holds back the orders
// behind it; what may be committed is everything before the oldest unsettled order, so a
// worker that dies leaves exactly the unfinished ones (and perhaps some finished ones,
// fenced by attempt) to the next member of the group.
export class OrderWindow {
  private readonly pending = new Set<bigint>();
  /** The highest offset started; everything up to it is pending or settled. */
  private highest = -1n;
  /** The next offset committed to Kafka, as far as we know. */
  committed = -1n;

  /** False for an offset started before: Kafka hands orders again after a rebalance. */
  isNew(offset: bigint): boolean {
    return offset > this.highest;
  }

  started(offset: bigint): void {
    this.pending.add(offset);
    if (offset > this.highest) this.highest = offset;
  }

  settled(offset: bigint): void {
    this.pending.delete(offset);
  }

  /** The next offset to read once a commit: the oldest unsettled order, or past the last one. */
  committable(): bigint {
    let oldest: bigint | undefined;
    for (const offset of this.pending) if (oldest === undefined || offset < oldest) oldest = offset;
    return oldest ?? this.highest + 1n;
  }

  get inFlight(): number {
    return this.pending.size;
  }
}

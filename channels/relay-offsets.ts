// Which offsets of the order topics a relay (redis or rabbitmq) may commit: only up to
// the first order not yet acknowledged by a worker, so the relay group's lag is the work
// not done (what the broker's shedding reads). If Redis loses its contents (it may keep
// nothing on disk), the relay rewinds to these offsets and pushes the unacknowledged
// orders again. Also the form of a worker's acknowledgement, shared by both relays.

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

/**
 * What the relay puts on a queue: the order as JSON, and where it came from (task.dispatch
 * or task.rollbacks; entries queued before rollbacks had a topic of their own name none).
 */
export interface QueuedOrder {
  source: { topic?: string; partition: number; offset: string };
  order: unknown;
}

/** A worker's acknowledgement of one order; no topic means task.dispatch (older workers). */
export function orderAck(source: QueuedOrder['source']): string {
  return source.topic === undefined ? `${source.partition}:${source.offset}` : `${source.partition}:${source.offset}:${source.topic}`;
}

export function parseOrderAck(ack: string, dispatchTopic: string): { topic: string; partition: number; offset: bigint } {
  const [partition, offset, topic] = ack.split(':');
  return { topic: topic ?? dispatchTopic, partition: Number(partition), offset: BigInt(offset ?? '0') };
}

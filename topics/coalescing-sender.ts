// Coalesces sends made at about the same time into one request. While a request is in
// flight, later callers queue and leave together in the next one, so a producer with one
// request in flight (idempotent, acks=all) serves many concurrent callers at the price
// of one round trip each, instead of one round trip per caller in turn. When idle, a
// send waits only for the current tick. Each caller gets its own answer, or the error
// of the request it travelled in.

export interface CoalescingLimits<T> {
  /** Most items in one request. */
  maxItems: number;
  /** Most bytes in one request, by `sizeOf`; an item bigger than this travels alone. */
  maxBytes?: number;
  sizeOf?: (item: T) => number;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class CoalescingSender<T, R> {
  private queue: Pending<T, R>[] = [];
  private flushing: Promise<void> | undefined;

  /** `flush` sends its items in one request and answers one result per item, in order. */
  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly limits: CoalescingLimits<T>,
  ) {}

  send(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Sends what is queued, then whatever queued up meanwhile, until the queue is empty. */
  private async flushLoop(): Promise<void> {
    // Let the sends of the current tick join this request.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.take();
      try {
        const results = await this.flush(batch.map((p) => p.item));
        if (results.length !== batch.length) throw new Error(`flush answered ${results.length} results for ${batch.length} items`);
        batch.forEach((p, i) => p.resolve(results[i] as R));
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = undefined;
  }

  /** The longest prefix of the queue within the limits (never empty). */
  private take(): Pending<T, R>[] {
    const { maxItems, maxBytes, sizeOf } = this.limits;
    if (maxBytes === undefined || sizeOf === undefined) return this.queue.splice(0, maxItems);
    let count = 0;
    let bytes = 0;
    for (const pending of this.queue) {
      const size = sizeOf(pending.item);
      if (count > 0 && (count >= maxItems || bytes + size > maxBytes)) break;
      count += 1;
      bytes += size;
    }
    return this.queue.splice(0, count);
  }
}

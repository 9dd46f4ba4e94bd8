// The pops waiting on one queue, oldest first, each with its own deadline. A pop is
// claimed before its value is committed (so its timer can no longer answer undefined
// under it) and put back, with the time it has left, when the commit fails.

export interface PopWaiter {
  resolve(text: string | undefined): void;
  reject(error: Error): void;
  deadline: number;
  timer?: NodeJS.Timeout;
}

export class PopWaiters {
  private readonly waiting: PopWaiter[] = [];
  /** When the list last became empty (or a pop arrived): the reader's idleness is measured from it. */
  lastActive = Date.now();

  get size(): number {
    return this.waiting.length;
  }

  add(timeoutMs: number): Promise<string | undefined> {
    this.lastActive = Date.now();
    return new Promise<string | undefined>((resolve, reject) => this.enqueue({ resolve, reject, deadline: Date.now() + timeoutMs }, 'last'));
  }

  /** The oldest pop, its timer stopped; it must be settled or put back. */
  claim(): PopWaiter | undefined {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) clearTimeout(waiter.timer);
    return waiter;
  }

  /** A claimed pop that got nothing goes back to the front: it is still the oldest. */
  putBack(waiter: PopWaiter): void {
    this.enqueue(waiter, 'first');
  }

  settle(waiter: PopWaiter, outcome: string | undefined | Error): void {
    clearTimeout(waiter.timer);
    if (this.waiting.length === 0) this.lastActive = Date.now();
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  settleAll(outcome: undefined | Error): void {
    for (const waiter of this.waiting.splice(0)) this.settle(waiter, outcome);
  }

  private enqueue(waiter: PopWaiter, where: 'first' | 'last'): void {
    if (where === 'first') this.waiting.unshift(waiter);
    else this.waiting.push(waiter);
    waiter.timer = setTimeout(() => {
      const index = this.waiting.indexOf(waiter);
      if (index < 0) return;
      this.waiting.splice(index, 1);
      this.settle(waiter, undefined);
    }, Math.max(0, waiter.deadline - Date.now()));
  }
}

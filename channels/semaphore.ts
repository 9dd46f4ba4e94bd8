// Bounds how many orders a worker runs at once, across all its partitions. A released
// slot passes straight to the next waiter, so the limit holds even when callers race.
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.limit) this.active += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /**
   * Acquires a slot if one frees within `ms`: true when acquired, false when the wait
   * ended first (the waiter is withdrawn, so no slot is handed to it later).
   */
  async acquireWithin(ms: number): Promise<boolean> {
    if (this.active < this.limit) {
      this.active += 1;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      }, ms);
      this.waiting.push(waiter);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }
}

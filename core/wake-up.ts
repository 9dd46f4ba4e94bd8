// A loop's sleep that a signal can cut short, without losing a signal that arrives while
// the loop is busy: it is kept and ends the next sleep at once. (Waking only a sleep already
// begun lost the NOTIFYs and new orders that came during a step, and the loop then slept
// its whole idle poll: the 1 s latency tails the brokers benchmark found.)
export class WakeUp {
  private pending = false;
  private cut: (() => void) | undefined;

  wake(): void {
    const cut = this.cut;
    this.cut = undefined;
    if (cut !== undefined) cut();
    else this.pending = true;
  }

  /** Sleeps up to `ms`, or not at all when a wake-up came since the last sleep. */
  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.cut = undefined;
        resolve();
      }, ms);
      this.cut = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

// Readings of a registry that a caller can trust to include everything written before it
// asked: a reading under way may have begun before that, so a caller arriving during one
// joins the next. At most one reading runs and one waits, however many ask.

export class FreshReadings {
  private running: Promise<void> | undefined;
  private waiting: Promise<void> | undefined;

  constructor(private readonly read: () => Promise<void>) {}

  next(): Promise<void> {
    if (this.running === undefined) return this.start();
    this.waiting ??= this.running
      .catch(() => {})
      .then(() => {
        this.waiting = undefined;
        return this.start();
      });
    return this.waiting;
  }

  /** Resolves once no reading runs (for a clean stop). */
  async settled(): Promise<void> {
    await this.waiting?.catch(() => {});
    await this.running?.catch(() => {});
  }

  private start(): Promise<void> {
    const reading: Promise<void> = this.read().finally(() => {
      if (this.running === reading) this.running = undefined;
    });
    this.running = reading;
    return reading;
  }
}

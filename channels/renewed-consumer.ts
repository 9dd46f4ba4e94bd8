// A consumer of the message channel that outlives kafkajs giving up on it. kafkajs
// restarts a consumer after a retriable crash but stops it for good after others (a
// group coordinator not found once its retries ran out, say); roles exit on that
// (consumer-watch.ts), but the channel is a library its users hold in their own
// processes, and its store and subscriptions can simply start over: the store's group
// commits nothing and skips what it already applied, a subscription's group resumes
// from what it committed. So a consumer stopped for good is replaced by a new one of
// the same group, with backoff, until the owner stops it. A worker's agent replies renew
// the same way, and its order lanes only after a lost group coordinator (`renews`).
import type { Consumer } from 'kafkajs';
import type { Logger } from '../core/log.js';

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

export interface RenewedConsumerOptions {
  /** A new consumer of the same group (not yet connected). */
  make: () => Consumer;
  /** Connects, subscribes and runs it. */
  start: (consumer: Consumer) => Promise<void>;
  what: string;
  log: Logger;
  /** The errors a new consumer starts after; every error unless set. */
  renews?: (error: unknown) => boolean;
  /** Told of an error the consumer is not renewed after (it stays stopped). */
  onGivenUp?: (error: unknown) => void;
}

export class RenewedConsumer {
  private current: Consumer | undefined;
  private stopped = false;
  private renewing: Promise<void> | undefined;

  constructor(private readonly options: RenewedConsumerOptions) {}

  /** The consumer of the moment (a renewal replaces it). */
  get consumer(): Consumer | undefined {
    return this.current;
  }

  /** Starts the first consumer; its failure is the caller's to handle. */
  async run(): Promise<void> {
    await this.launch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.renewing?.catch(() => {});
    await this.current?.disconnect();
  }

  private async launch(): Promise<void> {
    const consumer = this.options.make();
    this.current = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped || this.current !== consumer) return;
      if (this.options.renews !== undefined && !this.options.renews(payload.error)) {
        this.options.onGivenUp?.(payload.error);
        return;
      }
      this.options.log.warn(`${this.options.what}: kafkajs stopped the consumer for good; starting a new one`, { error: payload.error });
      this.renewing = this.renew(consumer);
    });
    try {
      await this.options.start(consumer);
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
  }

  private async renew(dead: Consumer): Promise<void> {
    await dead.disconnect().catch(() => {});
    for (let backoff = FIRST_BACKOFF_MS; !this.stopped; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      try {
        await this.launch();
        if (this.stopped) await this.current?.disconnect();
        return;
      } catch (error) {
        this.options.log.warn(`${this.options.what}: could not start a new consumer; trying again in ${backoff} ms`, { error });
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }
}

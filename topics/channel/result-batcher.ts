// Coalesces results reported at about the same time into one produce request:
// hundreds of concurrent attempts each sending their own acks=all request would
// spend the worker's time waiting on round trips. Each caller still waits until
// its own result is acknowledged by Kafka.
import type { Message, Producer } from 'kafkajs';

interface Pending {
  message: Message;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class ResultBatcher {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly maxBatch = 500,
  ) {}

  send(message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Sends what is queued, then whatever queued up meanwhile, until the queue is empty. */
  private async flushLoop(): Promise<void> {
    // Let the reports of the current tick join this request.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages: batch.map((p) => p.message) });
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = undefined;
  }
}

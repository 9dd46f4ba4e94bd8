// Workers' results, RabbitMQ → task.results, for the rabbitmq relay: gathered into batches
// as they arrive, written to Kafka (acks all, keyed and partitioned by task id as the
// broker expects), and acknowledged to RabbitMQ only once Kafka has them. A result that
// does not decode, or that Kafka refuses however often it is sent (too large), is refused
// to RabbitMQ, which dead-letters it; the relay then files it in the dead-letter topic.
import type { Message } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/log.js';
import { decode, taskResultSchema } from '../schemas/index.js';
import { isRefusal } from '../processors/runtime/failures.js';
import { partitionForKey } from '../topics/partitioner.js';
import type { RenewingProducer } from '../topics/renewing-producer.js';
import type { RabbitDelivery } from './rabbitmq-connection.js';

const MAX_BATCH = 500;
/** How long a result waits for others to share its produce request. */
const GATHER_MS = 2;

export interface ResultMoverOptions {
  producer: RenewingProducer;
  resultsTopic: string;
  dlqTopic: string;
  partitions: number;
  log: Logger;
}

export class RabbitResultMover {
  relayed = 0;
  private waiting: RabbitDelivery[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: ResultMoverOptions) {}

  take(delivery: RabbitDelivery): void {
    this.waiting.push(delivery);
    if (this.waiting.length >= MAX_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), GATHER_MS);
  }

  /** Writes what is waiting; batches go one after another, so results of one task keep their order. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting.splice(0);
    if (batch.length > 0) this.chain = this.chain.then(() => this.write(batch)).catch((error: unknown) => this.options.log.warn('moving results failed', { error }));
    return this.chain;
  }

  /** Stops retrying: what is not yet in Kafka stays unacknowledged, and RabbitMQ hands it to the next relay. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.flush();
  }

  private async write(batch: RabbitDelivery[]): Promise<void> {
    const ready: { delivery: RabbitDelivery; message: Message }[] = [];
    for (const delivery of batch) {
      try {
        const result = await decode(delivery.message.content, taskResultSchema);
        ready.push({ delivery, message: { key: result.taskId, value: delivery.message.content, partition: partitionForKey(result.taskId, this.options.partitions) } });
      } catch (error) {
        this.options.log.warn('a message on the results queue is not a result; dead-lettered', { error });
        delivery.reject();
      }
    }
    if (ready.length === 0) return;
    if (await this.send(ready.map((r) => r.message))) {
      for (const { delivery } of ready) delivery.ack();
      this.relayed += ready.length;
      return;
    }
    // Refused as a whole for good: one by one, so only the culprit is refused.
    for (const { delivery, message } of ready) {
      if (await this.send([message])) {
        delivery.ack();
        this.relayed += 1;
      } else delivery.reject();
    }
  }

  /** True once Kafka has the messages; false when Kafka refuses them for good (a blip is waited out, never a refusal). */
  private async send(messages: Message[]): Promise<boolean> {
    for (let backoff = 200; ; backoff = Math.min(backoff * 2, 5_000)) {
      try {
        await this.options.producer.send({ topic: this.options.resultsTopic, acks: -1, messages });
        return true;
      } catch (error) {
        if (isRefusal(error)) return false;
        // Stopping: leave them unacknowledged; RabbitMQ gives them to the next relay.
        if (this.stopped) throw error;
        this.options.log.warn('writing results to Kafka failed; trying again', { error: (error as Error).message });
        await sleep(backoff);
      }
    }
  }
}

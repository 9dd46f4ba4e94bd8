// Publish/subscribe on Kafka: each pub/sub topic is a Kafka topic of one partition (every
// subscriber sees publish order), and each subscription is a consumer group of its own
// that starts at the end. A fresh group fixes its start offset only at its first fetch,
// so subscribe writes a marker record and resolves once the marker comes back: every
// value published after that is read. The group commits what it handled, so a rebalance
// of its own (say, a handler slower than the session timeout) resumes where it was
// instead of jumping to the end; unsubscribe deletes the group. Each subscription costs
// a consumer (connections and a group join), so subscribe once and fan out in-process.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { ServiceUnavailableError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { RenewedConsumer } from './renewed-consumer.js';
import type { TextHandler } from './checked-message-channel.js';
import type { Subscription } from './message-channel.js';

const MARKER_HEADER = 'stackl.channel.marker';
const MARKER_RESEND_MS = 1000;
const MARKER_TRIES = 30;

export interface KafkaSubscriptionsOptions {
  kafka: Kafka;
  producer: Producer;
  admin: Admin;
}

export class KafkaSubscriptions {
  private readonly open = new Set<Subscription>();
  private readonly log = createLogger({ component: 'kafka-subscriptions' });

  constructor(private readonly options: KafkaSubscriptionsOptions) {}

  async publish(topic: string, text: string): Promise<void> {
    await this.options.producer.send({ topic, acks: -1, messages: [{ value: text }] });
  }

  async subscribe(topic: string, groupId: string, handler: TextHandler): Promise<Subscription> {
    const token = randomUUID();
    let active = true;
    let markerSeen: () => void = () => {};
    const marked = new Promise<void>((resolve) => (markerSeen = resolve));
    const consumer = new RenewedConsumer({
      make: () => this.options.kafka.consumer({ groupId, maxWaitTimeInMs: 50 }),
      start: async (made) => {
        await made.connect();
        await made.subscribe({ topic, fromBeginning: false });
        await made.run({
          eachMessage: async ({ message }) => {
            const marker = message.headers?.[MARKER_HEADER];
            // Markers, ours or other subscriptions', are never values.
            if (marker !== undefined) {
              if (marker.toString() === token) markerSeen();
              return;
            }
            if (active && message.value !== null) await handler(message.value.toString('utf8'));
          },
        });
      },
      what: `subscription ${groupId} to ${topic}`,
      log: this.log,
    });
    await consumer.run();
    try {
      await this.awaitMarker(topic, token, marked);
    } catch (error) {
      await consumer.stop().catch(() => {});
      throw error;
    }
    const subscription: Subscription = {
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        this.open.delete(subscription);
        await consumer.stop();
        await this.options.admin.deleteGroups([groupId]).catch(() => {});
      },
    };
    this.open.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.open].map((s) => s.unsubscribe()));
  }

  /** Writes markers until one comes back: the group's position is then fixed and before anything published next. */
  private async awaitMarker(topic: string, token: string, marked: Promise<void>): Promise<void> {
    for (let tries = 0; tries < MARKER_TRIES; tries += 1) {
      await this.options.producer.send({ topic, acks: -1, messages: [{ value: null, headers: { [MARKER_HEADER]: token } }] });
      let timer: NodeJS.Timeout | undefined;
      const came = await Promise.race([marked.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), MARKER_RESEND_MS)))]);
      clearTimeout(timer);
      if (came) return;
    }
    throw new ServiceUnavailableError('kafka', `a subscription to ${topic} did not become live within ${(MARKER_TRIES * MARKER_RESEND_MS) / 1000} s`);
  }
}

// The message channel's primitives on Kafka, assembled: temporary storage on a compacted
// topic read into memory (kafka-message-store.ts), push/pop on a topic and a shared group
// per queue (kafka-queue-reader.ts), publish/subscribe on a topic per pub/sub topic with a
// group per subscription (kafka-subscriptions.ts). Topics are made on first use. Nothing
// connects until the first call, so an instance nobody uses costs nothing.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { TopicDurability } from '../core/topic-durability.js';
import { channelQueueGroup, channelStoreGroup, channelSubscriptionGroup } from '../topics/names.js';
import { ChannelTopics, pubsubTopicSpec, queueTopicSpec, storeTopicSpec } from './channel-topics.js';
import { CheckedMessageChannel, type TextHandler } from './checked-message-channel.js';
import { ChannelClosedError } from './message-channel-errors.js';
import { KafkaMessageStore } from './kafka-message-store.js';
import { KafkaQueueReader } from './kafka-queue-reader.js';
import { KafkaSubscriptions } from './kafka-subscriptions.js';
import type { Subscription } from './message-channel.js';

export interface KafkaMessageChannelOptions {
  kafka: Kafka;
  prefix: string;
  /** Partitions of the store topic when this instance creates it (an existing one is used as it is). */
  storePartitions: number;
  /** Replicas and min ISR of the topics this instance creates (default: as the catalogue's). */
  durability?: Pick<TopicDurability, 'replicationFactor' | 'minInsyncReplicas'>;
  /** An instance that has not popped a queue for this long leaves its group, handing the queue to other poppers. */
  queueIdleMs?: number;
  /** How soon a queue's group notices a dead popper (Kafka's minimum is 6 s by default). */
  queueSessionTimeoutMs?: number;
}

export class KafkaMessageChannel extends CheckedMessageChannel {
  readonly name = 'kafka';
  private readonly instanceId = randomUUID();
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly topics: ChannelTopics;
  private readonly store: KafkaMessageStore;
  private readonly readers = new Map<string, KafkaQueueReader>();
  private readonly subscriptions: KafkaSubscriptions;
  private connected: Promise<void> | undefined;
  private storeReady: Promise<void> | undefined;

  constructor(private readonly options: KafkaMessageChannelOptions) {
    super();
    const { kafka, prefix } = options;
    this.admin = kafka.admin();
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.topics = new ChannelTopics(this.admin, options.durability);
    const topic = storeTopicSpec(prefix, options.storePartitions).name;
    this.store = new KafkaMessageStore({ kafka, producer: this.producer, admin: this.admin, topic, groupId: channelStoreGroup(prefix, this.instanceId) });
    this.subscriptions = new KafkaSubscriptions({ kafka, producer: this.producer, admin: this.admin });
  }

  protected async putText(key: string, text: string, ttlMs: number): Promise<void> {
    await this.startStore();
    await this.store.put(key, text, ttlMs);
  }

  protected async getText(key: string): Promise<string | undefined> {
    await this.startStore();
    return this.store.get(key);
  }

  protected async removeKey(key: string): Promise<void> {
    await this.startStore();
    await this.store.remove(key);
  }

  protected async pushText(queue: string, text: string): Promise<void> {
    const spec = queueTopicSpec(this.options.prefix, queue);
    await this.connect();
    await this.topics.ensure(spec);
    await this.producer.send({ topic: spec.name, acks: -1, messages: [{ value: text }] });
  }

  protected async popText(queue: string, timeoutMs: number): Promise<string | undefined> {
    // The wait counts from the call, including a first pop's topic check.
    const deadline = Date.now() + timeoutMs;
    const spec = queueTopicSpec(this.options.prefix, queue);
    await this.connect();
    await this.topics.ensure(spec);
    // A reader made after close would never be closed.
    if (this.closed) return undefined;
    let reader = this.readers.get(queue);
    if (reader === undefined) {
      reader = new KafkaQueueReader({
        kafka: this.options.kafka,
        topic: spec.name,
        groupId: channelQueueGroup(this.options.prefix, queue),
        idleMs: this.options.queueIdleMs ?? 5_000,
        sessionTimeoutMs: this.options.queueSessionTimeoutMs ?? 10_000,
      });
      this.readers.set(queue, reader);
    }
    return reader.pop(Math.max(1, deadline - Date.now()));
  }

  protected async publishText(topic: string, text: string): Promise<void> {
    const spec = pubsubTopicSpec(this.options.prefix, topic);
    await this.connect();
    await this.topics.ensure(spec);
    await this.subscriptions.publish(spec.name, text);
  }

  protected async subscribeText(topic: string, handler: TextHandler): Promise<Subscription> {
    const spec = pubsubTopicSpec(this.options.prefix, topic);
    await this.connect();
    await this.topics.ensure(spec);
    const subscription = await this.subscriptions.subscribe(spec.name, channelSubscriptionGroup(this.options.prefix, topic, randomUUID()), handler);
    if (this.closed) {
      // Closing began while it joined, after close had ended the others.
      await subscription.unsubscribe();
      throw new ChannelClosedError(this.name);
    }
    return subscription;
  }

  protected async closeTransport(): Promise<void> {
    if (this.connected === undefined) return;
    await this.connected.catch(() => {});
    await Promise.allSettled([...[...this.readers.values()].map((r) => r.close()), this.subscriptions.close()]);
    if (this.storeReady !== undefined) await this.storeReady.then(() => this.store.stop()).catch(() => {});
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }

  /** Memoised; a failure is forgotten so the next call tries again. */
  private connect(): Promise<void> {
    this.connected ??= Promise.all([this.admin.connect(), this.producer.connect()]).then(
      () => {},
      (error: unknown) => {
        this.connected = undefined;
        throw error;
      },
    );
    return this.connected;
  }

  private startStore(): Promise<void> {
    this.storeReady ??= (async () => {
      await this.connect();
      await this.topics.ensure(storeTopicSpec(this.options.prefix, this.options.storePartitions));
      await this.store.start();
    })().catch((error: unknown) => {
      this.storeReady = undefined;
      throw error;
    });
    return this.storeReady;
  }
}

// Temporary storage on RabbitMQ, which has no key-value store of its own: as on Kafka
// (kafka-message-store.ts), every put and remove is a record appended to one stream,
// <prefix>mc.store, that every instance reads whole into memory. A put carries its
// absolute expiry, so every reader agrees when it is dead without a tombstone that could
// race a newer put; remove appends a tombstone. Reads are consistent: put and remove
// return once this instance has read its own record back, and get first appends a small
// "sync" marker and waits until it reads it. RabbitMQ confirms a stream write once it has
// its place in the stream, so every write confirmed anywhere before the marker was sent
// lies before it, and is applied once the marker is read.
// Limits: the stream keeps 7 days (the longest TTL), so a starting instance replays up to
// 7 days of writes; expiry compares the writer's clock with the reader's: skew shifts it.
import { randomUUID } from 'node:crypto';
import type { Channel, Options } from 'amqplib';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../core/errors.js';
import { ChannelClosedError } from './message-channel-errors.js';
import type { ConsumerSpec, RabbitConnection, RabbitConsumer, RabbitDelivery } from './rabbitmq-connection.js';

const KEY_HEADER = 'stackl-key';
const EXPIRES_HEADER = 'stackl-expires-at';
type RecordType = 'put' | 'remove' | 'sync';
/** How long a write or a read waits for RabbitMQ (confirm and read back) before saying it is behind. */
const CATCH_UP_TIMEOUT_MS = 15_000;
/** Expired values leave memory at this pace even when nobody reads them. */
const SWEEP_INTERVAL_MS = 30_000;
/** A stream consumer must have a prefetch (acks give credit); a large one replays quickly. */
const STREAM_PREFETCH = 1_000;
/** How soon a stream that is not ready for consumers yet is tried again. */
const PROBE_RETRY_MS = 50;

interface Entry {
  text: string;
  expiresAt: number;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class RabbitMessageStore {
  private readonly entries = new Map<string, Entry>();
  /** The stream offset of the next record to apply; every record before it is in `entries`. */
  private next = 0;
  /** This instance's own records (by message id) it waits to read back. */
  private readonly waiters = new Map<string, Waiter>();
  private consumer: RabbitConsumer | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: RabbitConnection,
    private readonly stream: string,
  ) {}

  async start(): Promise<void> {
    const spec: ConsumerSpec = {
      queue: this.stream,
      prefetch: STREAM_PREFETCH,
      declare: async (channel) => {
        await this.declareStream(channel);
        // Run again on every new connection: go on after what is applied rather than replay it all.
        return { arguments: { 'x-stream-offset': this.next === 0 ? 'first' : { '!': 'long', value: this.next } } };
      },
      onMessage: (delivery) => this.apply(delivery),
    };
    await this.untilConsumable();
    this.consumer = await this.connection.consume(spec);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  async put(key: string, text: string, ttlMs: number): Promise<void> {
    await this.append('put', Buffer.from(text, 'utf8'), { [KEY_HEADER]: key, [EXPIRES_HEADER]: String(Date.now() + ttlMs) });
  }

  async remove(key: string): Promise<void> {
    await this.append('remove', Buffer.alloc(0), { [KEY_HEADER]: key });
  }

  async get(key: string): Promise<string | undefined> {
    await this.append('sync', Buffer.alloc(0), {});
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > Date.now()) return entry.text;
    this.entries.delete(key);
    return undefined;
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    for (const id of [...this.waiters.keys()]) this.forget(id)?.reject(new ChannelClosedError('rabbitmq'));
    await this.consumer?.close();
  }

  private async declareStream(channel: Channel): Promise<void> {
    await channel.assertQueue(this.stream, { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': '7D' } });
  }

  /**
   * Waits until the stream takes consumers. Just after RabbitMQ creates a stream, its local
   * member may not run yet and a consume is refused ("does not have a replica on the local
   * node"); trying on a channel of its own keeps that refusal away from other operations,
   * and from the connection's consumers (a consumer that failed to start stays registered).
   */
  private async untilConsumable(): Promise<void> {
    const until = Date.now() + CATCH_UP_TIMEOUT_MS;
    for (;;) {
      const channel = await (await this.connection.connection()).createChannel();
      channel.on('error', () => {}); // a refusal closes this channel only; tried again below
      try {
        await this.declareStream(channel);
        await channel.prefetch(1);
        const { consumerTag } = await channel.consume(this.stream, () => {}, { arguments: { 'x-stream-offset': 'next' } });
        await channel.cancel(consumerTag);
        await channel.close();
        return;
      } catch (error) {
        if (Date.now() > until) throw new ServiceUnavailableError('rabbitmq', `the message store could not read ${this.stream} within ${CATCH_UP_TIMEOUT_MS} ms`, error);
        await sleep(PROBE_RETRY_MS);
      }
    }
  }

  /** Appends a record and resolves once this instance has read it back. */
  private async append(type: RecordType, content: Buffer, headers: Record<string, string>): Promise<void> {
    const id = randomUUID();
    const until = Date.now() + CATCH_UP_TIMEOUT_MS;
    // Waiting before sending: the record may be read back before its confirm arrives.
    const readBack = this.readBack(id);
    readBack.catch(() => {}); // awaited below; a timeout during the send is reported there
    const options: Options.Publish = { type, messageId: id, headers, persistent: true };
    try {
      await this.connection.publish('', this.stream, content, options, Math.max(1, until - Date.now()));
    } catch (error) {
      this.forget(id);
      throw error;
    }
    await readBack;
  }

  private readBack(id: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.forget(id);
        reject(new ServiceUnavailableError('rabbitmq', `the message store did not read its own record back from ${this.stream} within ${CATCH_UP_TIMEOUT_MS} ms`));
      }, CATCH_UP_TIMEOUT_MS);
      this.waiters.set(id, { resolve, reject, timer });
    });
  }

  private forget(id: string): Waiter | undefined {
    const waiter = this.waiters.get(id);
    if (waiter === undefined) return undefined;
    clearTimeout(waiter.timer);
    this.waiters.delete(id);
    return waiter;
  }

  private apply(delivery: RabbitDelivery): void {
    const { content, properties } = delivery.message;
    const offset = Number(properties.headers?.['x-stream-offset']);
    // After a reconnect the stream may hand out again what is applied: skip it.
    if (!Number.isFinite(offset) || offset >= this.next) {
      if (Number.isFinite(offset)) this.next = offset + 1;
      this.applyRecord(properties.type as string | undefined, properties.headers ?? {}, content);
    }
    delivery.ack();
    if (typeof properties.messageId === 'string') this.forget(properties.messageId)?.resolve();
  }

  /** Markers and tombstones are not values: only a put that is not yet dead is kept. */
  private applyRecord(type: string | undefined, headers: Record<string, unknown>, content: Buffer): void {
    const key = headers[KEY_HEADER];
    if (typeof key !== 'string') return;
    if (type === 'remove') this.entries.delete(key);
    if (type !== 'put') return;
    // A put that is already dead still replaces what was there.
    const expiresAt = Number(headers[EXPIRES_HEADER]);
    if (expiresAt > Date.now()) this.entries.set(key, { text: content.toString('utf8'), expiresAt });
    else this.entries.delete(key);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

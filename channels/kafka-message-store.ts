// Temporary storage on Kafka: the compacted topic <prefix>channel.store, read whole into
// memory by every instance (in a group of its own that commits nothing: it always
// rebuilds from the start). A value carries its absolute expiry in a header, so every
// reader agrees when it is dead without anyone writing a tombstone that could race a
// newer put; remove writes a tombstone. Reads are consistent: put and remove return once
// this instance has read their record back, and get first catches up to the partitions'
// ends, so it sees every put that completed anywhere before it began (one ListOffsets
// request per get). Expiry compares the writer's clock with the reader's: skew shifts it.
import type { Admin, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { ServiceUnavailableError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { RenewedConsumer } from './renewed-consumer.js';
import { topicOffsets } from '../topics/topic-offsets.js';

const EXPIRES_HEADER = 'stackl.expires-at';
/** How long a read or write waits for the store to catch up before saying Kafka is behind. */
const CATCH_UP_TIMEOUT_MS = 15_000;
/** Expired values leave memory at this pace even when nobody reads them. */
const SWEEP_INTERVAL_MS = 30_000;

interface Entry {
  text: string;
  expiresAt: number;
}

export interface KafkaMessageStoreOptions {
  kafka: Kafka;
  producer: Producer;
  admin: Admin;
  topic: string;
  groupId: string;
}

export class KafkaMessageStore {
  private readonly entries = new Map<string, Entry>();
  /** Per partition, the next offset to apply; everything before it is in `entries`. */
  private readonly applied = new Map<number, number>();
  private waiters: { partition: number; offset: number; resolve: () => void }[] = [];
  private readonly consumer: RenewedConsumer;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly log = createLogger({ component: 'kafka-message-store' });

  constructor(private readonly options: KafkaMessageStoreOptions) {
    this.consumer = new RenewedConsumer({
      make: () => options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 50 }),
      start: async (consumer) => {
        await consumer.connect();
        await consumer.subscribe({ topic: options.topic, fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatch: (payload) => this.apply(payload) });
      },
      what: `message store ${options.topic}`,
      log: this.log,
    });
  }

  async start(): Promise<void> {
    await this.consumer.run();
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  async put(key: string, text: string, ttlMs: number): Promise<void> {
    await this.write(key, text, { [EXPIRES_HEADER]: String(Date.now() + ttlMs) });
  }

  async remove(key: string): Promise<void> {
    await this.write(key, null, {});
  }

  async get(key: string): Promise<string | undefined> {
    const ends = await topicOffsets(this.options.admin, this.options.topic);
    await Promise.all(ends.map((end) => this.reached(end.partition, Number(end.offset))));
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > Date.now()) return entry.text;
    this.entries.delete(key);
    return undefined;
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.consumer.stop();
  }

  private async write(key: string, value: string | null, headers: Record<string, string>): Promise<void> {
    const [meta] = await this.options.producer.send({ topic: this.options.topic, acks: -1, messages: [{ key, value, headers }] });
    if (meta?.baseOffset === undefined) throw new ServiceUnavailableError('kafka', `Kafka did not say where the write of ${key} landed`);
    await this.reached(meta.partition, Number(meta.baseOffset) + 1);
  }

  private async apply({ batch }: EachBatchPayload): Promise<void> {
    const from = this.applied.get(batch.partition) ?? 0;
    for (const message of batch.messages) {
      // After a rejoin the group starts over from the beginning: skip what is applied.
      if (Number(message.offset) < from || message.key === null) continue;
      const key = message.key.toString('utf8');
      if (message.value === null) {
        this.entries.delete(key);
        continue;
      }
      const expiresAt = Number(message.headers?.[EXPIRES_HEADER]?.toString());
      if (Number.isFinite(expiresAt)) this.entries.set(key, { text: message.value.toString('utf8'), expiresAt });
      else this.log.warn('store record without an expiry; ignored', { key, offset: message.offset });
    }
    this.applied.set(batch.partition, Math.max(from, Number(batch.lastOffset()) + 1));
    this.waiters = this.waiters.filter((w) => {
      const done = w.partition === batch.partition && w.offset <= (this.applied.get(w.partition) ?? 0);
      if (done) w.resolve();
      return !done;
    });
  }

  /**
   * Resolves once every record of `partition` before `offset` is applied. Bounded: if the
   * partition's last records were compacted away the position can stall short of the end.
   */
  private reached(partition: number, offset: number): Promise<void> {
    if ((this.applied.get(partition) ?? 0) >= offset) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new ServiceUnavailableError('kafka', `the message store did not read ${this.options.topic}[${partition}] up to offset ${offset} within ${CATCH_UP_TIMEOUT_MS} ms`));
      }, CATCH_UP_TIMEOUT_MS);
      const waiter = {
        partition,
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

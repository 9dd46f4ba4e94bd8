// The kinds a broker accepts and the API lists: the built-in ones, which ship with this
// code, and those workers registered on the compacted `task.kinds` topic, followed live.
// Every instance reads the topic whole, in a group of its own that commits nothing.
//
// Read-your-registration: a worker's registration returns once Kafka has its record, and
// a submission of its kind may follow at once. An instance that does not know a kind
// first catches up (one ListOffsets request, then it reads to the end) before it refuses;
// a catch-up that began after the submission was written answers for it too, so a flood
// of unknown kinds costs one catch-up, not one each.
import { randomUUID } from 'node:crypto';
import type { Admin, EachBatchPayload, Kafka } from 'kafkajs';
import { createLogger } from '../../core/log.js';
import { RenewedConsumer } from '../../channels/renewed-consumer.js';
import { topicOffsets } from '../../topics/topic-offsets.js';
import type { KindDefinition } from '../lifecycle/index.js';
import { FreshReadings } from './fresh-readings.js';
import { KindBook, type KindView } from './kind-book.js';
import type { KindRecord } from './kind-record.js';

/** How long a catch-up reads before it answers with what it has. */
const CATCH_UP_TIMEOUT_MS = 5_000;
/** Producer and broker clocks may disagree this much about when a submission was written. */
const CLOCK_MARGIN_MS = 1_000;

export interface KindCatalogueOptions {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  /** Prefix of this instance's own group (`<prefix>kinds.<uuid>`). */
  groupPrefix: string;
  /** Kinds this code defines; registry records of the same name are ignored. */
  builtIns?: Readonly<Record<string, KindDefinition>>;
}

export class KindCatalogue implements KindView {
  private readonly book: KindBook;
  private readonly consumer: RenewedConsumer;
  private readonly log = createLogger({ component: 'kind-catalogue' });
  private nextOffset = 0;
  private waiters: { offset: number; resolve: () => void }[] = [];
  private readonly readings = new FreshReadings(() => this.readToEnd(Date.now()));
  private lastCatchUpStartedAt = 0;

  constructor(private readonly options: KindCatalogueOptions) {
    this.book = new KindBook(options.builtIns);
    const groupId = `${options.groupPrefix}kinds.${randomUUID()}`;
    this.consumer = new RenewedConsumer({
      make: () => options.kafka.consumer({ groupId, maxWaitTimeInMs: 100 }),
      start: async (consumer) => {
        await consumer.connect();
        await consumer.subscribe({ topic: options.topic, fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatch: (payload) => this.apply(payload) });
      },
      what: `kind registry ${options.topic}`,
      log: this.log,
    });
  }

  /** Starts following the registry and returns once it has read what it held at start. */
  async start(): Promise<void> {
    await this.consumer.run();
    await this.catchUp();
  }

  async stop(): Promise<void> {
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
    await this.consumer.stop();
  }

  /** Kind name → definition, kept current: hand it to the decider as its registry. */
  get kinds(): ReadonlyMap<string, KindDefinition> {
    return this.book.kinds;
  }

  /** The registered record of a kind (null for a built-in or unknown kind). */
  record(name: string): KindRecord | null {
    return this.book.record(name);
  }

  /**
   * Makes sure every registration written before `writtenAt` is read, then says whether
   * `kind` is known. Never throws: Kafka out of reach means the kinds read so far stand.
   */
  async knows(kind: string, writtenAt: number = Date.now()): Promise<boolean> {
    if (this.kinds.has(kind)) return true;
    if (this.lastCatchUpStartedAt <= writtenAt + CLOCK_MARGIN_MS) await this.catchUp().catch((error: unknown) => this.log.warn('could not catch up with the kind registry', { error }));
    return this.kinds.has(kind);
  }

  /** Reads the registry up to its end as of this call (callers share readings: fresh-readings.ts). */
  catchUp(): Promise<void> {
    return this.readings.next();
  }

  private async readToEnd(startedAt: number): Promise<void> {
    const ends = await topicOffsets(this.options.admin, this.options.topic);
    const end = Math.max(0, ...ends.map((e) => Number(e.high ?? e.offset)));
    await this.reached(end);
    this.lastCatchUpStartedAt = Math.max(this.lastCatchUpStartedAt, startedAt);
  }

  private reached(offset: number): Promise<void> {
    if (this.nextOffset >= offset) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`the kind registry was not read up to offset ${offset} within ${CATCH_UP_TIMEOUT_MS} ms (read to ${this.nextOffset})`));
      }, CATCH_UP_TIMEOUT_MS);
      const waiter = {
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  private async apply({ batch }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      // After a rejoin the group starts over from the beginning: skip what is applied.
      if (offset < this.nextOffset || message.key === null) continue;
      this.book.apply(message.key.toString('utf8'), message.value, { offset });
    }
    this.nextOffset = Math.max(this.nextOffset, Number(batch.lastOffset()) + 1);
    this.waiters = this.waiters.filter((w) => {
      if (w.offset > this.nextOffset) return true;
      w.resolve();
      return false;
    });
  }
}

// The `notifier` role: reads the broker's DeliverOutcome orders from task.notifications
// and POSTs each outcome to its webhook, at least once. A partition's position moves
// only past outcomes that were delivered (a 2xx) or dead-lettered after the last try, so
// a notifier killed mid-delivery leaves them to the next owner, which sends them again
// under the same delivery id. Outcomes of one batch go out side by side, up to
// STACKL_WEBHOOK_CONCURRENCY, so one slow receiver does not hold up the others' tries.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { createLogger } from '../../core/log.js';
import type { NotifierSettings } from '../../core/webhook-config.js';
import { watchConsumer, type OnConsumerStopped } from '../../topics/consumer-watch.js';
import { deadLetter, DLQ_HEADERS } from '../../topics/dead-letter.js';
import type { TopicNames } from '../../topics/names.js';
import { RenewingProducer } from '../../topics/renewing-producer.js';
import { settleOutcome, type NotifierStats, type Settled, type UndeliveredReports } from './settle-outcome.js';

export type { NotifierStats, UndeliveredReports } from './settle-outcome.js';

export const NOTIFIER_APP = 'notifier';

export interface NotifierOptions {
  kafka: Kafka;
  reports: UndeliveredReports;
  /** Called once the notifier has stopped (closes what its owner gave it). */
  onStop?: () => Promise<void>;
  topics: TopicNames;
  groupId: string;
  settings: NotifierSettings;
  onFatal?: OnConsumerStopped;
}

export class Notifier {
  private readonly consumer: Consumer;
  private readonly producer: RenewingProducer;
  private readonly stopping = new AbortController();
  private readonly log = createLogger({ component: NOTIFIER_APP });
  private readonly counters: NotifierStats = { delivered: 0, deadLettered: 0, failedTries: 0 };

  constructor(private readonly options: NotifierOptions) {
    // A notifier holds no state: a dead one's partitions should move on soon (10 s, as the relay's).
    this.consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 3_000 });
    watchConsumer(this.consumer, NOTIFIER_APP, this.log, options.onFatal);
    this.producer = new RenewingProducer(options.kafka);
  }

  stats(): NotifierStats {
    return { ...this.counters };
  }

  async start(): Promise<void> {
    if (this.options.settings.secret === undefined) this.log.warn('STACKL_WEBHOOK_SECRET is not set: deliveries go out unsigned');
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.options.topics.notifications], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isStale }) => {
        if (isStale()) return;
        // A delivery may retry for minutes; the group must still hear from us.
        const beat = setInterval(() => void heartbeat().catch(() => {}), 3_000);
        try {
          const settled = await this.settleAll(batch.topic, batch.partition, batch.messages);
          // Only a prefix of settled outcomes may be committed: the rest are sent again.
          for (let i = 0; i < batch.messages.length && settled[i] === 'settled'; i += 1) resolveOffset((batch.messages[i] as KafkaMessage).offset);
          await commitOffsetsIfNecessary();
        } finally {
          clearInterval(beat);
        }
      },
    });
  }

  private async settleAll(topic: string, partition: number, messages: KafkaMessage[]): Promise<Settled[]> {
    const settled: Settled[] = new Array<Settled>(messages.length).fill('interrupted');
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < messages.length && !this.stopping.signal.aborted) {
        const index = next;
        next += 1;
        settled[index] = await this.settle(topic, partition, messages[index] as KafkaMessage);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.settings.concurrency, messages.length) }, lane));
    return settled;
  }

  /** Delivers one record's outcome, or dead-letters it; 'interrupted' when stopping cut it short. */
  private settle(topic: string, partition: number, message: KafkaMessage): Promise<Settled> {
    const origin = { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} };
    return settleOutcome(message.value, {
      settings: this.options.settings,
      signal: this.stopping.signal,
      log: this.log,
      counters: this.counters,
      deadLetter: (error, target) => this.deadLetter(origin, error, target),
      report: (taskId, report) => this.untilSent('undelivered report', () => this.options.reports.reportUndelivered(taskId, report)),
    });
  }

  private async deadLetter(origin: Parameters<typeof deadLetter>[2], error: unknown, target: string | undefined): Promise<boolean> {
    const dead = deadLetter(this.options.topics.dlq, NOTIFIER_APP, origin, error);
    const headers = target === undefined ? dead.headers : { ...dead.headers, [DLQ_HEADERS.replyTarget]: target };
    return this.untilSent('dead letter', () => this.producer.send({ topic: dead.topic, acks: -1, messages: [{ key: dead.key, value: dead.value, headers }] }));
  }

  /**
   * Sends until Kafka takes it, pausing longer each time (up to 5 s); false when the
   * notifier stops first. A failed send thrown out of a batch would make kafkajs stop the
   * consumer for good (a lost answer is not retriable to it), and a transient fault must
   * never stop the role. Sending again after a lost answer may write twice: at least once.
   */
  private async untilSent(what: string, send: () => Promise<unknown>): Promise<boolean> {
    for (let pauseMs = 100; !this.stopping.signal.aborted; pauseMs = Math.min(pauseMs * 2, 5_000)) {
      try {
        await send();
        return true;
      } catch (error) {
        this.log.warn(`sending the ${what} failed; sending again`, { error, pauseMs });
        await sleep(pauseMs, undefined, { signal: this.stopping.signal }).catch(() => {});
      }
    }
    return false;
  }

  /** Cuts deliveries short (their outcomes stay uncommitted) and leaves the group. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer.disconnect();
    await this.producer.disconnect();
    await this.options.onStop?.();
  }
}

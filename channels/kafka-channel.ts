// The `kafka` channel: workers take run orders from task.dispatch and rollback orders
// from task.rollbacks, each topic a lane with its consumer group and slots of its own
// (kafka-order-lane.ts), and write results to task.results.
import type { Kafka, KafkaMessage, Message } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { decode, encode, taskDispatchSchema, taskResultSchema, type TaskResultMessage } from '../schemas/index.js';
import { createLogger } from '../core/log.js';
import { deadLetter } from '../topics/dead-letter.js';
import { partitionForKey } from '../topics/partitioner.js';
import { CoalescingSender } from '../topics/coalescing-sender.js';
import { RenewingProducer } from '../topics/renewing-producer.js';
import { KafkaOrderLane } from './kafka-order-lane.js';
import { asWorkOrder, rollbackSlotsFor, type WorkChannel, type WorkDelivery } from './work-channel.js';
import type { OnConsumerStopped } from '../topics/consumer-watch.js';

/** How long a worker keeps trying to send one result. */
const RESULT_PATIENCE_MS = 60_000;

/** The consumer group of the rollback lanes, beside the run lanes' `groupId`. */
export function rollbackGroupOf(groupId: string): string {
  return `${groupId}.rollbacks`;
}

export interface KafkaChannelOptions {
  kafka: Kafka;
  dispatchTopic: string;
  rollbacksTopic: string;
  resultsTopic: string;
  dlqTopic: string;
  /** The run lane's group; the rollback lane's is `<groupId>.rollbacks`. */
  groupId: string;
  partitions: number;
  /** How soon the group notices a dead worker and hands its orders to another (≥ 6 s on a default broker). */
  sessionTimeoutMs?: number;
  /** A consumer of its orders stopped for good (the role should exit and be restarted). */
  onFatal?: OnConsumerStopped;
}

export class KafkaWorkChannel implements WorkChannel {
  readonly name = 'kafka';
  private readonly lanes: { runs: KafkaOrderLane; rollbacks: KafkaOrderLane };
  private readonly producer: RenewingProducer;
  private readonly results: CoalescingSender<Message, void>;
  private readonly log = createLogger({ component: 'kafka-channel' });
  /** Orders started and still decoding: `handle` is called for each once it decodes. */
  private readonly decoding = new Set<Promise<unknown>>();

  constructor(private readonly options: KafkaChannelOptions) {
    const lane = (topic: string, groupId: string, label: string) =>
      new KafkaOrderLane({ kafka: options.kafka, topic, groupId, label, partitions: options.partitions, sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000, ...(options.onFatal === undefined ? {} : { onFatal: options.onFatal }) });
    this.lanes = {
      runs: lane(options.dispatchTopic, options.groupId, 'run orders'),
      rollbacks: lane(options.rollbacksTopic, rollbackGroupOf(options.groupId), 'rollback orders'),
    };
    this.producer = new RenewingProducer(options.kafka);
    // Hundreds of concurrent attempts reporting at once share produce requests.
    this.results = new CoalescingSender<Message, void>(async (messages) => {
      await this.producer.send({ topic: options.resultsTopic, acks: -1, messages });
      return messages.map(() => undefined);
    }, { maxItems: 500 });
  }

  async consume(handle: (delivery: WorkDelivery) => Promise<void>, concurrency: number): Promise<void> {
    const start = (topic: string, partition: number, message: KafkaMessage, keepAlive: () => Promise<void>) => this.deliver(topic, partition, message, handle, keepAlive);
    await Promise.all([this.lanes.runs.consume(start, concurrency), this.lanes.rollbacks.consume(start, rollbackSlotsFor(concurrency))]);
  }

  /**
   * A result is worth waiting for: lost, its task waits out its deadline and rolls back
   * work that was done. So a send that failed (a leader moving takes seconds, longer than
   * kafkajs' own retries) is tried again, on a new producer, for up to a minute; the
   * broker fences duplicates by attempt.
   */
  async report(result: TaskResultMessage): Promise<void> {
    const message = { key: result.taskId, value: encode(taskResultSchema, result), partition: partitionForKey(result.taskId, this.options.partitions) };
    const giveUpAt = Date.now() + RESULT_PATIENCE_MS;
    for (let pause = 250; ; pause = Math.min(pause * 2, 5_000)) {
      try {
        await this.results.send(message);
        return;
      } catch (error) {
        if (Date.now() + pause > giveUpAt) throw error;
        this.log.warn('result not sent; trying again', { taskId: result.taskId, type: result.type, inMs: pause, error });
        await sleep(pause);
      }
    }
  }

  /**
   * Pauses fetching (the consumers keep heartbeating, so the groups keep our partitions and
   * the orders we run stay ours) and waits for orders still decoding: their `handle` runs
   * before this resolves, because their own continuation was queued first.
   */
  async stopTaking(): Promise<void> {
    this.lanes.runs.stopTaking();
    this.lanes.rollbacks.stopTaking();
    await Promise.allSettled([...this.decoding]);
  }

  private async deliver(topic: string, partition: number, message: KafkaMessage, handle: (delivery: WorkDelivery) => Promise<void>, keepAlive: () => Promise<void>): Promise<void> {
    let order;
    const decoding = decode(message.value ?? Buffer.alloc(0), taskDispatchSchema);
    this.decoding.add(decoding);
    try {
      order = asWorkOrder(await decoding);
    } catch (error) {
      this.log.warn('work order does not decode; dead-lettering it', { partition, offset: message.offset, error });
      const dead = deadLetter(this.options.dlqTopic, this.options.groupId, { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} }, error);
      await this.producer.send({ topic: dead.topic, acks: -1, messages: [{ key: dead.key, value: dead.value, headers: dead.headers }] });
      return;
    } finally {
      this.decoding.delete(decoding);
    }
    await handle({ order, keepAlive });
  }

  async close(): Promise<void> {
    await this.stopTaking();
    await Promise.all([this.lanes.runs.close(), this.lanes.rollbacks.close()]);
    await this.producer.disconnect();
  }
}

// The `kafka` channel: workers join one consumer group on task.dispatch and write
// results to task.results. A batch's offsets are committed only after all its orders
// settled, so a worker killed mid-task leaves them to the next member of the group
// (duplicates are fenced by attempt number); the broker's deadlines bound how long any
// order can hold its partition.
import type { Consumer, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { decode, encode, taskDispatchSchema, taskResultSchema, type TaskResultMessage } from '../../schemas/index.js';
import { createLogger } from '../../core/log.js';
import { deadLetter } from '../dead-letter.js';
import { partitionForKey } from '../partitioner.js';
import { CoalescingSender } from '../coalescing-sender.js';
import { Semaphore } from './semaphore.js';
import type { WorkChannel, WorkDelivery } from './work-channel.js';
import { watchConsumer, type OnConsumerStopped } from '../consumer-watch.js';

export interface KafkaChannelOptions {
  kafka: Kafka;
  dispatchTopic: string;
  resultsTopic: string;
  dlqTopic: string;
  groupId: string;
  partitions: number;
  /** How soon the group notices a dead worker and hands its orders to another (≥ 6 s on a default broker). */
  sessionTimeoutMs?: number;
  /** Its consumer of task.dispatch stopped for good (the role should exit and be restarted). */
  onFatal?: OnConsumerStopped;
}

export class KafkaWorkChannel implements WorkChannel {
  readonly name = 'kafka';
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly results: CoalescingSender<Message, void>;
  private connected: Promise<void> | undefined;
  private readonly log = createLogger({ component: 'kafka-channel' });

  constructor(private readonly options: KafkaChannelOptions) {
    this.consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 50, sessionTimeout: options.sessionTimeoutMs ?? 30_000, heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)) });
    watchConsumer(this.consumer, 'worker channel', this.log, options.onFatal);
    this.producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    // Hundreds of concurrent attempts reporting at once share produce requests.
    this.results = new CoalescingSender<Message, void>(async (messages) => {
      await this.producer.send({ topic: options.resultsTopic, acks: -1, messages });
      return messages.map(() => undefined);
    }, { maxItems: 500 });
  }

  async consume(handle: (delivery: WorkDelivery) => Promise<void>, concurrency: number): Promise<void> {
    await this.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.dispatchTopic, fromBeginning: true });
    const slots = new Semaphore(concurrency);
    await this.consumer.run({
      partitionsConsumedConcurrently: Math.min(concurrency, this.options.partitions),
      // The orders of a batch run concurrently (up to `concurrency` across partitions);
      // the batch's offsets commit once every one of them settled: at least once.
      eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning }) => {
        await Promise.all(
          batch.messages.map((message) =>
            slots.run(async () => {
              if (!isRunning()) return;
              await this.deliver(batch.topic, batch.partition, message, handle, heartbeat);
            }),
          ),
        );
        if (isRunning()) resolveOffset(batch.lastOffset());
        await heartbeat();
      },
    });
  }

  async report(result: TaskResultMessage): Promise<void> {
    await this.connect();
    await this.results.send({ key: result.taskId, value: encode(taskResultSchema, result), partition: partitionForKey(result.taskId, this.options.partitions) });
  }

  private async deliver(topic: string, partition: number, message: KafkaMessage, handle: (delivery: WorkDelivery) => Promise<void>, keepAlive: () => Promise<void>): Promise<void> {
    let order;
    try {
      order = await decode(message.value ?? Buffer.alloc(0), taskDispatchSchema);
    } catch (error) {
      this.log.warn('work order does not decode; dead-lettering it', { partition, offset: message.offset, error });
      const dead = deadLetter(this.options.dlqTopic, this.options.groupId, { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} }, error);
      await this.producer.send({ topic: dead.topic, acks: -1, messages: [{ key: dead.key, value: dead.value, headers: dead.headers }] });
      return;
    }
    await handle({ order, keepAlive });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
    if (this.connected) await this.producer.disconnect();
  }

  /** A connect that failed (Kafka away) is forgotten, so the next report tries again. */
  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    });
    return this.connected;
  }
}

// The `kafka` channel: workers join one consumer group on task.dispatch and write
// results to task.results. An order's offset is committed only after its handler
// settled, so a worker killed mid-task leaves the order to the next member of the
// group; the broker's deadlines bound how long any order can hold its partition.
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { decode, encode, taskDispatchSchema, taskResultSchema, type TaskResultMessage } from '../../schemas/index.js';
import { createLogger } from '../../core/log.js';
import { partitionForKey } from '../partitioner.js';
import type { WorkChannel, WorkDelivery } from './work-channel.js';

export interface KafkaChannelOptions {
  kafka: Kafka;
  dispatchTopic: string;
  resultsTopic: string;
  dlqTopic: string;
  groupId: string;
  partitions: number;
  /** How soon the group notices a dead worker and hands its orders to another (≥ 6 s on a default broker). */
  sessionTimeoutMs?: number;
}

export class KafkaWorkChannel implements WorkChannel {
  readonly name = 'kafka';
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  private readonly log = createLogger({ component: 'kafka-channel' });

  constructor(private readonly options: KafkaChannelOptions) {
    this.consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 50, sessionTimeout: options.sessionTimeoutMs ?? 30_000, heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)) });
    this.producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  async consume(handle: (delivery: WorkDelivery) => Promise<void>, concurrency: number): Promise<void> {
    await this.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.dispatchTopic, fromBeginning: true });
    await this.consumer.run({
      // One order at a time per partition; as many partitions at once as the worker's concurrency.
      partitionsConsumedConcurrently: concurrency,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        let order;
        try {
          order = await decode(message.value ?? Buffer.alloc(0), taskDispatchSchema);
        } catch (error) {
          this.log.warn('work order does not decode; dead-lettering it', { partition, offset: message.offset, error });
          await this.producer.send({
            topic: this.options.dlqTopic,
            acks: -1,
            messages: [{ key: message.key, value: message.value, headers: { ...message.headers, 'stackl.dlq.topic': topic, 'stackl.dlq.partition': String(partition), 'stackl.dlq.offset': message.offset, 'stackl.dlq.error.message': String(error) } }],
          });
          return;
        }
        await handle({ order, keepAlive: heartbeat });
      },
    });
  }

  async report(result: TaskResultMessage): Promise<void> {
    await this.connect();
    await this.producer.send({
      topic: this.options.resultsTopic,
      acks: -1,
      messages: [{ key: result.taskId, value: encode(taskResultSchema, result), partition: partitionForKey(result.taskId, this.options.partitions) }],
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
    if (this.connected) await this.producer.disconnect();
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect();
    return this.connected;
  }
}

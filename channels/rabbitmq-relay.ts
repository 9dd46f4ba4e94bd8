// The relay between Kafka and the `rabbitmq` channel (a transactional outbox: the broker
// only ever writes to Kafka). It sends work orders from task.dispatch and task.rollbacks
// to two quorum queues as the broker's own Avro bytes, each confirmed by RabbitMQ, and
// commits their offsets once workers acknowledged them (so the group's lag is the work not
// done, which the broker's shedding reads). It moves results from RabbitMQ into
// task.results, acknowledging them only once Kafka has them, and moves what RabbitMQ
// dead-lettered (undecodable messages, orders delivered too often) to the dead-letter
// topic with their origin in headers. RabbitMQ keeps its queues on disk: a restart of it
// loses nothing, and the relay reconnects and goes on.
import { watchRelay } from './relay-metrics.js';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../core/log.js';
import { decode, taskDispatchSchema } from '../schemas/index.js';
import { deadLetter, DLQ_HEADERS } from '../topics/dead-letter.js';
import { isRefusal } from '../processors/runtime/failures.js';
import { RenewingProducer } from '../topics/renewing-producer.js';
import type { TopicNames } from '../topics/names.js';
import { watchConsumer, type OnConsumerStopped } from '../topics/consumer-watch.js';
import { RabbitConnection, type RabbitConsumer } from './rabbitmq-connection.js';
import { rabbitWorkNames, type RabbitWorkNames } from './rabbitmq-names.js';
import { RabbitResultMover } from './rabbitmq-result-mover.js';
import { declareWorkQueues, sourceHeaders, sourceOf } from './rabbitmq-work-queues.js';
import { parseOrderAck, RelayOffsets } from './relay-offsets.js';
import { asWorkOrder } from './work-channel.js';
import { StacklError } from '../core/errors.js';

/** How long one try at sending a batch of orders to RabbitMQ may take before the batch heartbeats and tries again. */
const SEND_TRY_MS = 5_000;

export interface RabbitRelayOptions {
  kafka: Kafka;
  rabbitmqUrl: string;
  prefix: string;
  topics: TopicNames;
  groupId: string;
  partitions: number;
  /** How often acknowledged offsets are committed. */
  intervalMs?: number;
  onFatal?: OnConsumerStopped;
}

export interface RabbitRelayStats {
  ordersSent: number;
  resultsRelayed: number;
  deadLettered: number;
}

export class RabbitRelay {
  private readonly names: RabbitWorkNames;
  private readonly connection: RabbitConnection;
  private readonly consumer: Consumer;
  private readonly producer: RenewingProducer;
  private readonly results: RabbitResultMover;
  private readonly offsets = new Map<string, RelayOffsets>();
  private readonly rabbitConsumers: RabbitConsumer[] = [];
  private readonly counters = { ordersSent: 0, deadLettered: 0 };
  private readonly log = createLogger({ component: 'rabbitmq-relay' });
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;

  constructor(private readonly options: RabbitRelayOptions) {
    this.names = rabbitWorkNames(options.prefix);
    this.connection = new RabbitConnection(options.rabbitmqUrl, 'relay');
    // As the redis relay: a restarted relay gets its partitions back after 10 s, not 30 s.
    this.consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 50, sessionTimeout: 10_000, heartbeatInterval: 3_000 });
    watchConsumer(this.consumer, 'relay', this.log, options.onFatal);
    this.producer = new RenewingProducer(options.kafka);
    this.results = new RabbitResultMover({ producer: this.producer, resultsTopic: options.topics.results, dlqTopic: options.topics.dlq, partitions: options.partitions, log: this.log });
  }

  stats(): RabbitRelayStats {
    return { ...this.counters, resultsRelayed: this.results.relayed };
  }

  async start(): Promise<void> {
    this.running = true;
    this.unwatch = watchRelay('rabbitmq', () => ({ ...this.stats() }));
    await this.producer.connect();
    await this.connection.withChannel((channel) => declareWorkQueues(channel, this.names));
    const declare = (channel: Parameters<typeof declareWorkQueues>[0]) => declareWorkQueues(channel, this.names);
    this.rabbitConsumers.push(
      await this.connection.consume({ queue: this.names.acks, prefetch: 1_000, declare, onMessage: (d) => this.onAck(d.message.content.toString(), d.ack) }),
      await this.connection.consume({ queue: this.names.results, prefetch: 500, declare, onMessage: (d) => this.results.take(d) }),
      await this.connection.consume({ queue: this.names.dead, prefetch: 100, declare, onMessage: (d) => void this.onDead(d.message, d.ack) }),
    );
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, offsets] of this.offsets) {
        const mine = new Set(payload.memberAssignment[topic] ?? []);
        for (const partition of offsets.partitions()) if (!mine.has(partition)) offsets.forget(partition);
      }
    });
    await this.consumer.subscribe({ topics: [this.options.topics.dispatch, this.options.topics.rollbacks], fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatch: (payload) => this.relayOrders(payload) });
    this.timer = setInterval(() => void this.commitAcknowledged().catch((error: unknown) => this.log.warn('committing acknowledged orders failed', { error })), this.options.intervalMs ?? 200);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    if (this.timer) clearInterval(this.timer);
    await this.consumer.disconnect();
    await Promise.all(this.rabbitConsumers.splice(0).map((c) => c.cancel()));
    await this.results.stop();
    await this.connection.close();
    await this.producer.disconnect();
  }

  private async relayOrders({ batch, resolveOffset, heartbeat, isStale, isRunning }: EachBatchPayload): Promise<void> {
    if (isStale()) return;
    const queue = batch.topic === this.options.topics.rollbacks ? this.names.rollbacks : this.names.runs;
    const sends: { message: KafkaMessage }[] = [];
    for (const message of batch.messages) {
      try {
        asWorkOrder(await decode(message.value ?? Buffer.alloc(0), taskDispatchSchema));
        sends.push({ message });
      } catch (error) {
        // Only the lifecycle processor should write here; anything else goes aside, the partition moves on.
        const dead = deadLetter(this.options.topics.dlq, 'relay', { topic: batch.topic, partition: batch.partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} }, error);
        await this.producer.send({ topic: dead.topic, acks: -1, messages: [{ key: dead.key, value: dead.value, headers: dead.headers }] });
      }
    }
    const send = (message: KafkaMessage) =>
      this.connection.publish('', queue, message.value ?? Buffer.alloc(0), { headers: { ...sourceHeaders(batch.topic, batch.partition, message.offset), 'stackl-task-id': message.key?.toString() ?? '' } }, SEND_TRY_MS);
    // RabbitMQ away: keep trying (heartbeating, so the group keeps this relay) until it answers or the partition moves.
    for (;;) {
      if (!isRunning() || isStale()) return;
      try {
        await Promise.all(sends.map(({ message }) => send(message)));
        break;
      } catch (error) {
        this.log.warn('sending orders to RabbitMQ failed; trying again', { topic: batch.topic, partition: batch.partition, error: (error as Error).message });
        await heartbeat();
        await sleep(500);
      }
    }
    this.counters.ordersSent += sends.length;
    this.offsetsOf(batch.topic).pushed(batch.partition, sends.map(({ message }) => BigInt(message.offset)), BigInt(batch.lastOffset()) + 1n);
    resolveOffset(batch.lastOffset());
  }

  private onAck(text: string, ack: () => void): void {
    try {
      const { topic, partition, offset } = parseOrderAck(text, this.options.topics.dispatch);
      // An ack for an offset not pending here (forged, or of a partition since moved) changes nothing.
      this.offsets.get(topic)?.acked(partition, offset);
    } catch {
      this.log.warn('an order acknowledgement does not parse; dropped', { text: text.slice(0, 100) });
    }
    ack();
  }

  /** What RabbitMQ dead-lettered → the dead-letter topic, with where it came from; an order counts as done. */
  private async onDead(message: Parameters<typeof sourceOf>[0], ack: () => void): Promise<void> {
    const source = sourceOf(message);
    const death = (message.properties.headers?.['x-first-death-reason'] as string | undefined) ?? 'unknown';
    const from = (message.properties.headers?.['x-first-death-queue'] as string | undefined) ?? 'a work queue';
    const reason = new StacklError('RABBITMQ_DEAD_LETTERED', `RabbitMQ dead-lettered this message from ${from} (${death}${death === 'delivery_limit' ? ': delivered to workers too many times' : ''})`);
    const origin = source ?? { topic: `rabbitmq:${from}`, partition: -1, offset: '-1' };
    const taskId = message.properties.headers?.['stackl-task-id'];
    const key = typeof taskId === 'string' ? Buffer.from(taskId) : null;
    const whole = deadLetter(this.options.topics.dlq, 'relay', { ...origin, key, value: message.content, headers: {} }, reason);
    // Kafka may refuse the bytes themselves (larger than its limit): then a note of their size stands in.
    const note = deadLetter(this.options.topics.dlq, 'relay', { ...origin, key, value: null, headers: { [DLQ_HEADERS.valueBytes]: String(message.content.length) } }, reason);
    for (let backoff = 200, dead = whole; this.running; backoff = Math.min(backoff * 2, 5_000)) {
      try {
        await this.producer.send({ topic: dead.topic, acks: -1, messages: [{ key: dead.key, value: dead.value, headers: dead.headers }] });
        break;
      } catch (error) {
        if (isRefusal(error) && dead === note) {
          this.log.error('Kafka refuses even the note of a dead-lettered message; dropped', { error: (error as Error).message });
          break;
        }
        if (isRefusal(error)) dead = note;
        else {
          this.log.warn('writing a dead-lettered message to Kafka failed; trying again', { error: (error as Error).message });
          await sleep(backoff);
        }
      }
    }
    if (!this.running) return;
    this.counters.deadLettered += 1;
    if (source !== undefined) this.offsets.get(source.topic)?.acked(source.partition, BigInt(source.offset));
    ack();
  }

  private async commitAcknowledged(): Promise<void> {
    const moves = [...this.offsets].flatMap(([topic, offsets]) => offsets.committable().map((m) => ({ topic, partition: m.partition, offset: m.offset.toString() })));
    if (moves.length > 0) await this.consumer.commitOffsets(moves);
  }

  private offsetsOf(topic: string): RelayOffsets {
    let offsets = this.offsets.get(topic);
    if (offsets === undefined) {
      offsets = new RelayOffsets();
      this.offsets.set(topic, offsets);
    }
    return offsets;
  }
}

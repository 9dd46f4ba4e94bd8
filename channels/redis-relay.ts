// The relay between Kafka and the `redis` channel (a transactional outbox: the broker
// only ever writes to Kafka). It pushes work orders from task.dispatch and
// task.rollbacks onto two Redis queues as JSON (workers take rollbacks with slots of
// their own), commits their offsets once workers acknowledged them, moves results
// from Redis into task.results, requeues the orders of workers whose lease expired,
// and, when Redis restarted empty, rewinds to the unacknowledged orders.
import { watchRelay } from './relay-metrics.js';
import type { Consumer, Kafka } from 'kafkajs';
import { RenewingProducer } from '../topics/renewing-producer.js';
import { Redis } from 'ioredis';
import { createLogger } from '../core/log.js';
import { decode, encode, taskDispatchSchema, taskResultSchema, type TaskResultMessage } from '../schemas/index.js';
import { deadLetter } from '../topics/dead-letter.js';
import { partitionForKey } from '../topics/partitioner.js';
import type { TopicNames } from '../topics/names.js';
import { asWorkOrder } from './work-channel.js';
import { redisChannelKeys, type RedisChannelKeys } from './redis-keys.js';
import { RedisReaper } from './redis-reaper.js';
import { moveResults, recoverResults } from './redis-results.js';
import { parseOrderAck, RelayOffsets, type QueuedOrder } from './relay-offsets.js';
import { watchConsumer, type OnConsumerStopped } from '../topics/consumer-watch.js';

export interface RelayOptions {
  kafka: Kafka;
  redisUrl: string;
  prefix: string;
  topics: TopicNames;
  groupId: string;
  partitions: number;
  /** How often acknowledgements, leases and Redis' identity are checked. */
  intervalMs?: number;
  /** Its consumer of the order topics stopped for good (the role should exit and be restarted). */
  onFatal?: OnConsumerStopped;
}

export interface RelayStats {
  ordersPushed: number;
  resultsRelayed: number;
  ordersRequeued: number;
  redisRestarts: number;
}

export class RedisRelay {
  private readonly keys: RedisChannelKeys;
  private readonly consumer: Consumer;
  private readonly producer: RenewingProducer;
  private readonly commands: Redis;
  private readonly blocking: Redis;
  /** Per order topic: what was pushed and not yet acknowledged. */
  private readonly offsets = new Map<string, RelayOffsets>();
  private readonly log = createLogger({ component: 'relay' });
  private readonly reaper: RedisReaper;
  private unwatch: (() => void) | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private resultsLoop: Promise<void> | undefined;
  private redisRunId: string | undefined;
  private readonly counters: RelayStats = { ordersPushed: 0, resultsRelayed: 0, ordersRequeued: 0, redisRestarts: 0 };

  constructor(private readonly options: RelayOptions) {
    this.keys = redisChannelKeys(options.prefix);
    // A restarted relay waits for its dead predecessor's session to expire before it gets
    // the partitions back: 10 s rather than kafkajs' 30 s keeps that stall short.
    this.consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 50, sessionTimeout: 10_000, heartbeatInterval: 3_000 });
    watchConsumer(this.consumer, 'relay', this.log, options.onFatal);
    this.producer = new RenewingProducer(options.kafka);
    this.commands = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.blocking = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    for (const client of [this.commands, this.blocking]) client.on('error', (error) => this.log.warn('redis connection error', { error: error.message }));
    this.reaper = new RedisReaper(this.commands, this.keys, (topic) => this.queueOf(topic), this.log);
  }

  stats(): RelayStats {
    return { ...this.counters };
  }

  async start(): Promise<void> {
    this.running = true;
    this.unwatch = watchRelay('redis', () => ({ ...this.stats() }));
    await this.producer.connect();
    this.redisRunId = await this.runId();
    await recoverResults(this.commands, this.keys);
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, offsets] of this.offsets) {
        const mine = new Set(payload.memberAssignment[topic] ?? []);
        for (const partition of offsets.partitions()) if (!mine.has(partition)) offsets.forget(partition);
      }
    });
    await this.consumer.subscribe({ topics: [this.options.topics.dispatch, this.options.topics.rollbacks], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, isStale }) => {
        if (isStale()) return;
        const queued: string[] = [];
        const queuedOffsets: bigint[] = [];
        for (const message of batch.messages) {
          let order;
          try {
            order = asWorkOrder(await decode(message.value ?? Buffer.alloc(0), taskDispatchSchema));
          } catch (error) {
            // Only the lifecycle processor should write here; anything else goes aside, the partition moves on.
            const dead = deadLetter(this.options.topics.dlq, 'relay', { topic: batch.topic, partition: batch.partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} }, error);
            await this.producer.send({ topic: dead.topic, acks: -1, messages: [{ key: dead.key, value: dead.value, headers: dead.headers }] });
            continue;
          }
          const entry: QueuedOrder = { source: { topic: batch.topic, partition: batch.partition, offset: message.offset }, order };
          queued.push(JSON.stringify(entry));
          queuedOffsets.push(BigInt(message.offset));
        }
        if (queued.length > 0) await this.commands.lpush(this.queueOf(batch.topic), ...queued);
        this.counters.ordersPushed += queued.length;
        // Only what went onto the queue awaits a worker's acknowledgement. A dead-lettered
        // record counted here was never acknowledged: the partition's commit stood still
        // and every Redis restart pushed everything since it again (found by the chaos run).
        this.offsetsOf(batch.topic).pushed(batch.partition, queuedOffsets, BigInt(batch.lastOffset()) + 1n);
        resolveOffset(batch.lastOffset());
      },
    });
    this.resultsLoop = this.moveResults();
    this.timer = setInterval(() => void this.housekeeping().catch((error: unknown) => this.log.warn('relay housekeeping failed', { error })), this.options.intervalMs ?? 200);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    if (this.timer) clearInterval(this.timer);
    this.blocking.disconnect();
    await this.resultsLoop?.catch(() => {});
    await this.consumer.disconnect();
    await this.producer.disconnect();
    this.commands.disconnect();
  }

  /** Acknowledgements → committed offsets; dead workers → requeued orders; a Redis restart → rewind. */
  private async housekeeping(): Promise<void> {
    const runId = await this.runId();
    if (runId !== this.redisRunId) {
      this.counters.redisRestarts += 1;
      this.redisRunId = runId;
      this.rewind();
      return;
    }
    const acks = (await this.commands.lpop(this.keys.acks, 10_000)) ?? [];
    for (const ack of acks) {
      const { topic, partition, offset } = parseOrderAck(ack, this.options.topics.dispatch);
      this.offsets.get(topic)?.acked(partition, offset);
    }
    const moves = [...this.offsets].flatMap(([topic, offsets]) => offsets.committable().map((m) => ({ topic, partition: m.partition, offset: m.offset.toString() })));
    if (moves.length > 0) await this.consumer.commitOffsets(moves);
    this.counters.ordersRequeued += await this.reaper.reap();
  }

  private queueOf(topic: string | undefined): string {
    return topic === this.options.topics.rollbacks ? this.keys.rollbackQueue : this.keys.queue;
  }

  private offsetsOf(topic: string): RelayOffsets {
    let offsets = this.offsets.get(topic);
    if (offsets === undefined) {
      offsets = new RelayOffsets();
      this.offsets.set(topic, offsets);
    }
    return offsets;
  }

  /** Redis came back empty: push every order not yet acknowledged again (attempts are fenced). */
  private rewind(): void {
    for (const [topic, offsets] of this.offsets) {
      for (const partition of offsets.partitions()) {
        const offset = offsets.rewindPoint(partition);
        offsets.forget(partition);
        if (offset === undefined) continue;
        this.log.warn('redis restarted; pushing unacknowledged orders again', { topic, partition, from: offset.toString() });
        this.consumer.seek({ topic, partition, offset: offset.toString() });
      }
    }
  }

  /** Results: Redis → task.results, removed from Redis only once Kafka has them. */
  /** Results: Redis → task.results, removed from Redis only once Kafka has them. */
  private moveResults(): Promise<void> {
    return moveResults({ blocking: this.blocking, commands: this.commands, keys: this.keys, running: () => this.running, log: this.log, write: (batch) => this.produceResults(batch) });
  }

  private async produceResults(batch: string[]): Promise<void> {
    const messages = batch.map((raw) => {
      const result = JSON.parse(raw) as TaskResultMessage;
      return { key: result.taskId, value: encode(taskResultSchema, result), partition: partitionForKey(result.taskId, this.options.partitions) };
    });
    await this.producer.send({ topic: this.options.topics.results, acks: -1, messages });
    this.counters.resultsRelayed += batch.length;
  }

  /** Results a previous relay took but may not have written: hand them back to the queue. */

  private async runId(): Promise<string | undefined> {
    const info = await this.commands.info('server');
    return /run_id:(\w+)/.exec(info)?.[1];
  }
}

// The `rabbitmq` channel as workers see it: two durable quorum queues, run orders and
// rollback orders, each consumed with manual acknowledgements and a prefetch equal to its
// slots (so an undo never waits behind new work). An order is acknowledged only once its
// work settled; a worker that dies leaves its orders unacknowledged and RabbitMQ hands
// them to another (attempts fence the duplicate). Orders arrive as the Avro bytes the
// broker wrote to Kafka, moved by the relay; results go back the same way.
import { randomUUID } from 'node:crypto';
import { createLogger } from '../core/log.js';
import { decode, encode, taskDispatchSchema, taskResultSchema, type TaskResultMessage } from '../schemas/index.js';
import { RabbitConnection, type RabbitConsumer, type RabbitDelivery } from './rabbitmq-connection.js';
import { declareWorkQueues, orderAckOf } from './rabbitmq-work-queues.js';
import { rabbitWorkNames, type RabbitWorkNames } from './rabbitmq-names.js';
import { asWorkOrder, rollbackSlotsFor, type WorkChannel, type WorkDelivery, type WorkOrder } from './work-channel.js';

/** How long a worker keeps trying to send one result (as on the kafka channel). */
const RESULT_PATIENCE_MS = 60_000;

export interface RabbitChannelOptions {
  rabbitmqUrl: string;
  prefix: string;
  workerId?: string;
}

export class RabbitWorkChannel implements WorkChannel {
  readonly name = 'rabbitmq';
  readonly workerId: string;
  private readonly names: RabbitWorkNames;
  private readonly connection: RabbitConnection;
  private consumers: RabbitConsumer[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log = createLogger({ component: 'rabbitmq-channel' });

  constructor(options: RabbitChannelOptions) {
    this.workerId = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.names = rabbitWorkNames(options.prefix);
    this.connection = new RabbitConnection(options.rabbitmqUrl, `worker ${this.workerId}`);
  }

  async consume(handle: (delivery: WorkDelivery) => Promise<void>, concurrency: number): Promise<void> {
    const lane = (queue: string, prefetch: number) =>
      this.connection.consume({ queue, prefetch, declare: (channel) => declareWorkQueues(channel, this.names), onMessage: (delivery) => this.take(delivery, handle) });
    this.consumers = [await lane(this.names.runs, concurrency), await lane(this.names.rollbacks, rollbackSlotsFor(concurrency))];
  }

  async report(result: TaskResultMessage): Promise<void> {
    await this.connection.publish('', this.names.results, encode(taskResultSchema, result), { headers: { 'stackl-task-id': result.taskId } }, RESULT_PATIENCE_MS);
  }

  /**
   * Cancels both consumers: RabbitMQ sends nothing more, and what it sent before is
   * already being handled (the prefetch never exceeds the slots). The connection stays,
   * so what was started still acknowledges and reports.
   */
  async stopTaking(): Promise<void> {
    const consumers = this.consumers;
    this.consumers = [];
    await Promise.all(consumers.map((consumer) => consumer.cancel()));
  }

  async close(): Promise<void> {
    await this.stopTaking();
    await Promise.allSettled([...this.inFlight]);
    await this.connection.close();
  }

  private take(delivery: RabbitDelivery, handle: (delivery: WorkDelivery) => Promise<void>): void {
    const work = this.run(delivery, handle).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  private async run(delivery: RabbitDelivery, handle: (delivery: WorkDelivery) => Promise<void>): Promise<void> {
    let order: WorkOrder;
    try {
      order = asWorkOrder(await decode(delivery.message.content, taskDispatchSchema));
    } catch (error) {
      // Only the relay writes here; anything else goes to the dead queue (the relay moves it
      // to the dead-letter topic) and the queue moves on.
      this.log.warn('a message on a work queue is not a work order; dead-lettered', { queue: delivery.message.fields.routingKey, error });
      delivery.reject();
      return;
    }
    try {
      // RabbitMQ holds an unacknowledged order for its consumer as long as the connection lives.
      await handle({ order, keepAlive: () => Promise.resolve() });
    } catch (error) {
      this.log.warn('order handling failed', { taskId: order.taskId, error });
    } finally {
      delivery.ack();
      await this.acknowledgeToRelay(delivery);
    }
  }

  /** Tells the relay this order is done, so it may commit the order's Kafka offset. */
  private async acknowledgeToRelay(delivery: RabbitDelivery): Promise<void> {
    const ack = orderAckOf(delivery.message);
    if (ack === undefined) return;
    await this.connection.publish('', this.names.acks, Buffer.from(ack), {}, RESULT_PATIENCE_MS).catch((error: unknown) => this.log.warn('acknowledging an order to the relay failed; its offset waits until the relay restarts and sends it again', { error }));
  }
}

// One connection to RabbitMQ that outlives RabbitMQ restarts and network blips. amqplib
// gives a connection and channels that die for good with the socket (and a channel also
// dies alone on a refused operation), so this wrapper reconnects with backoff, starts its
// consumers again on the new connection, and sends a message again until RabbitMQ
// confirms it. Every part of the `rabbitmq` channel (workers, relay, agents, the
// message-channel primitives) goes through it.
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { maskUrl } from '../core/secret.js';

/** How long a first connection keeps trying before the role says RabbitMQ is not there. */
const FIRST_CONNECT_PATIENCE_MS = 30_000;
const MAX_BACKOFF_MS = 5_000;
/** The default heartbeat (60 s) notices a dead socket late; 10 s hands orders on sooner. */
const HEARTBEAT_SECONDS = 10;
const CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 5_000;

/** A message taken from a queue, acknowledged on the channel that delivered it. */
export interface RabbitDelivery {
  message: ConsumeMessage;
  /** Done with: RabbitMQ forgets it. A no-op when its channel died (it is delivered again elsewhere). */
  ack(): void;
  /** Refused without requeueing: the queue's dead-letter target takes it, if it has one. */
  reject(): void;
  /** Handed back to the queue for another try (here or elsewhere). */
  requeue(): void;
}

/** What a consumer reads, when its declaration decides it (a server-named queue, a stream offset). */
export interface ConsumeTarget {
  queue?: string;
  arguments?: Record<string, unknown>;
}

export interface ConsumerSpec {
  queue: string;
  prefetch: number;
  /**
   * Declares what the consumer needs (queues, bindings) on each new connection before it
   * consumes; what it returns overrides `queue` and `arguments` for that connection.
   */
  declare?: (channel: Channel) => Promise<ConsumeTarget | void>;
  /** Consume arguments (for a stream: where to start). */
  arguments?: Record<string, unknown>;
  onMessage: (delivery: RabbitDelivery) => void;
}

export interface RabbitConsumer {
  /** Stops delivery; messages handed out before it resolves may still be acknowledged. */
  cancel(): Promise<void>;
  /** Stops delivery and closes its channel: what it has not acknowledged goes back to the queue. */
  close(): Promise<void>;
  /** The queue it reads on the current connection (a server-named one changes with it). */
  readonly queue: string | undefined;
}

interface LiveConsumer {
  spec: ConsumerSpec;
  cancelled: boolean;
  current?: { channel: Channel; consumerTag: string; queue: string };
}

export class RabbitConnection {
  private model: ChannelModel | undefined;
  private connecting: Promise<ChannelModel> | undefined;
  private publisher: Promise<ConfirmChannel> | undefined;
  private operations: Promise<Channel> | undefined;
  private readonly consumers = new Set<LiveConsumer>();
  private closing = false;
  private everConnected = false;
  private readonly log: Logger;

  constructor(
    private readonly url: string,
    private readonly role: string,
  ) {
    this.log = createLogger({ component: 'rabbitmq', role });
  }

  /** The live connection, connecting (again) first when there is none. */
  connection(): Promise<ChannelModel> {
    if (this.model !== undefined) return Promise.resolve(this.model);
    this.connecting ??= this.connectWithBackoff().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /**
   * Sends one message and resolves once RabbitMQ confirmed it (written to its queues),
   * sending again after a lost connection or a refusal until `patienceMs` ran out. After a
   * lost confirm the message may arrive twice: every receiver here is idempotent.
   */
  async publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish, patienceMs = 60_000): Promise<void> {
    const until = Date.now() + patienceMs;
    for (let backoff = 100; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      this.assertOpen();
      try {
        const channel = await within(this.publishingChannel(), until - Date.now());
        await new Promise<void>((resolve, reject) => {
          channel.publish(exchange, routingKey, content, { persistent: true, ...options }, (error: unknown) => (error ? reject(error as Error) : resolve()));
        });
        return;
      } catch (error) {
        if (this.closing) throw new ServiceUnavailableError('rabbitmq', 'the connection to RabbitMQ was closed while sending', error);
        if (Date.now() + backoff > until) throw new ServiceUnavailableError('rabbitmq', `RabbitMQ did not confirm a message within ${patienceMs} ms`, error);
        this.log.warn('sending to RabbitMQ failed; sending again', { exchange, routingKey, error: (error as Error).message });
        await sleep(backoff);
      }
    }
  }

  /**
   * Runs one short operation (declare, get, check) on a shared channel. A refused
   * operation closes that channel; the next call opens another.
   */
  async withChannel<T>(operation: (channel: Channel) => Promise<T>): Promise<T> {
    this.assertOpen();
    this.operations ??= this.openChannel((model) => model.createChannel());
    const pending = this.operations;
    try {
      return await operation(await pending);
    } catch (error) {
      if (this.operations === pending) this.operations = undefined;
      throw error;
    }
  }

  /** Starts consuming now and again on every new connection, until cancelled. */
  async consume(spec: ConsumerSpec): Promise<RabbitConsumer> {
    this.assertOpen();
    const live: LiveConsumer = { spec, cancelled: false };
    this.consumers.add(live);
    try {
      await this.startConsumer(live, await this.connection());
    } catch (error) {
      // Not started: nothing may start it again after a reconnect.
      live.cancelled = true;
      this.consumers.delete(live);
      throw error;
    }
    const stop = async (): Promise<Channel | undefined> => {
      live.cancelled = true;
      this.consumers.delete(live);
      const current = live.current;
      live.current = undefined;
      if (current !== undefined) await current.channel.cancel(current.consumerTag).catch(() => {});
      return current?.channel;
    };
    return {
      cancel: async () => void (await stop()),
      close: async () => void (await (await stop())?.close().catch(() => {})),
      get queue() {
        return live.current?.queue;
      },
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const live of this.consumers) live.cancelled = true;
    this.consumers.clear();
    const model = this.model ?? (await this.connecting?.catch(() => undefined));
    this.model = undefined;
    // Bounded too: a close-ok that never comes must not hold the role's shutdown.
    await within(model?.close() ?? Promise.resolve(), CLOSE_TIMEOUT_MS).catch(() => {});
  }

  private assertOpen(): void {
    if (this.closing) throw new ServiceUnavailableError('rabbitmq', 'the connection to RabbitMQ is closed');
  }

  private publishingChannel(): Promise<ConfirmChannel> {
    this.publisher ??= this.openChannel((model) => model.createConfirmChannel());
    const pending = this.publisher;
    // A publisher that failed to open is forgotten, so the next send opens another.
    pending.catch(() => {
      if (this.publisher === pending) this.publisher = undefined;
    });
    return pending;
  }

  private async openChannel<C extends Channel>(create: (model: ChannelModel) => Promise<C>): Promise<C> {
    const channel = await create(await this.connection());
    channel.on('error', (error: Error) => this.log.warn('a RabbitMQ channel was closed by an error', { error: error.message }));
    channel.on('close', () => {
      // Forget it, so the next use opens a fresh one.
      if (this.operations !== undefined) void this.operations.then((c) => c === (channel as Channel) && (this.operations = undefined)).catch(() => {});
      if (this.publisher !== undefined) void this.publisher.then((c) => c === (channel as Channel) && (this.publisher = undefined)).catch(() => {});
    });
    return channel;
  }

  private async startConsumer(live: LiveConsumer, model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.log.warn('a RabbitMQ consumer channel was closed by an error', { queue: live.spec.queue, error: error.message }));
    channel.on('close', () => {
      // Closed on its own (a refused operation, a deleted queue) while the connection lives: start it again.
      if (live.current?.channel !== channel) return;
      live.current = undefined;
      if (!live.cancelled && !this.closing && this.model === model) void this.restartConsumer(live, model);
    });
    const target = (await live.spec.declare?.(channel)) ?? {};
    const queue = target.queue ?? live.spec.queue;
    const args = target.arguments ?? live.spec.arguments;
    await channel.prefetch(live.spec.prefetch);
    const wrap = (message: ConsumeMessage): RabbitDelivery => ({
      message,
      ack: () => safely(() => channel.ack(message)),
      reject: () => safely(() => channel.nack(message, false, false)),
      requeue: () => safely(() => channel.nack(message, false, true)),
    });
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        // null: RabbitMQ cancelled the consumer (its queue was deleted); the channel's close restarts it.
        if (message === null) void channel.close().catch(() => {});
        else live.spec.onMessage(wrap(message));
      },
      { noAck: false, ...(args === undefined ? {} : { arguments: args }) },
    );
    live.current = { channel, consumerTag, queue };
    if (live.cancelled) await channel.cancel(consumerTag).catch(() => {});
  }

  private async restartConsumer(live: LiveConsumer, model: ChannelModel): Promise<void> {
    // A channel's close comes just before its connection's: let that one land first.
    await sleep(50);
    for (let backoff = 200; !live.cancelled && !this.closing && this.model === model; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      try {
        await this.startConsumer(live, model);
        return;
      } catch (error) {
        this.log.warn('starting a RabbitMQ consumer again failed; retrying', { queue: live.spec.queue, error: (error as Error).message });
        await sleep(backoff);
      }
    }
  }

  private async connectWithBackoff(): Promise<ChannelModel> {
    const until = Date.now() + FIRST_CONNECT_PATIENCE_MS;
    for (let backoff = 100; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      this.assertOpen();
      try {
        // Bounded: a RabbitMQ that takes the socket but never answers the handshake (seen once,
        // wedged under load) must fail the try, not hang it for ever.
        const model = await within(amqp.connect(withHeartbeat(this.url), { clientProperties: { connection_name: `stackl-${this.role}` }, timeout: CONNECT_TIMEOUT_MS }), CONNECT_TIMEOUT_MS);
        this.adopt(model);
        return model;
      } catch (error) {
        if (!this.everConnected && Date.now() + backoff > until) {
          throw new ServiceUnavailableError('rabbitmq', `RabbitMQ at ${maskUrl(this.url)} did not answer within ${FIRST_CONNECT_PATIENCE_MS} ms: ${(error as Error).message}`, error);
        }
        this.log.warn('connecting to RabbitMQ failed; retrying', { url: maskUrl(this.url), error: (error as Error).message });
        await sleep(backoff);
      }
    }
  }

  private adopt(model: ChannelModel): void {
    this.model = model;
    if (this.everConnected) this.log.info('reconnected to RabbitMQ');
    this.everConnected = true;
    model.on('error', (error: Error) => this.log.warn('the RabbitMQ connection failed', { error: error.message }));
    model.on('close', () => {
      if (this.model !== model) return;
      this.model = undefined;
      this.publisher = undefined;
      this.operations = undefined;
      for (const live of this.consumers) live.current = undefined;
      if (this.closing) return;
      this.log.warn('lost the RabbitMQ connection; reconnecting');
      void this.reconnect();
    });
  }

  /** Connects again and starts every consumer on the new connection. */
  private async reconnect(): Promise<void> {
    let model: ChannelModel;
    try {
      model = await this.connection();
    } catch (error) {
      if (!this.closing) this.log.warn('reconnecting to RabbitMQ failed', { error: (error as Error).message });
      return;
    }
    for (const live of this.consumers) if (live.current === undefined) void this.restartConsumer(live, model);
  }
}

/** The promise, or a rejection once `ms` passed (what it waits for goes on in the background). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), Math.max(0, ms))));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function safely(operation: () => void): void {
  try {
    operation();
  } catch {
    // The channel is gone: RabbitMQ hands the message to another consumer.
  }
}

function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(HEARTBEAT_SECONDS));
  return parsed.toString();
}

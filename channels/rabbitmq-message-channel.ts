// The message channel's primitives on RabbitMQ, all under <prefix>mc. (rabbitmq-names.ts)
// and all through one RabbitConnection, which reconnects and confirms sends.
// - push/pop: a durable quorum queue per queue name, declared on first use. push returns
//   once RabbitMQ confirmed the value; pop polls with basic.get (no ack), backing off
//   from 10 to 50 ms, until a value or its timeout. Polling, not consuming: a consumer
//   would hold values in its prefetch while another instance's pop waits on an empty
//   queue, and would hand them back out of order when it left.
// - publish/subscribe: one durable direct exchange routed by topic. A subscription is a
//   server-named exclusive queue bound to its topic and consumed; values are handled one
//   at a time in order and acknowledged once handled.
// - put/get/remove: a stream read whole into memory (rabbitmq-message-store.ts).
// Limits: a popped value whose popper dies before using it is gone (at most once, as on
// Redis); pub/sub reaches only live subscribers, and one that reconnects gets a new queue,
// missing what was published in between; a starting instance replays up to 7 days of
// store writes; expiry compares the writer's clock with the reader's.
import type { Channel, ChannelModel } from 'amqplib';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../core/errors.js';
import { CheckedMessageChannel, type TextHandler } from './checked-message-channel.js';
import { ChannelClosedError } from './message-channel-errors.js';
import type { Subscription } from './message-channel.js';
import { RabbitConnection, type ConsumerSpec } from './rabbitmq-connection.js';
import { RabbitMessageStore } from './rabbitmq-message-store.js';
import { quorumQueue, rabbitMessageNames, type RabbitMessageNames } from './rabbitmq-names.js';

const FIRST_POLL_MS = 10;
const LAST_POLL_MS = 50;
/** How long a send or a declare waits for RabbitMQ before saying it is not there. */
const PATIENCE_MS = 15_000;
/** How long past its timeout a pop waits for a RabbitMQ that does not answer at all. */
const POP_GRACE_MS = 5_000;
/** Values a subscription holds in memory ahead of its handler. */
const PUBSUB_PREFETCH = 100;
/** How long close lets pops finish a get already sent, so a value taken reaches its caller. */
const CLOSE_GRACE_MS = 2_000;
const GAVE_UP = Symbol('gave up');

export interface RabbitMessageChannelOptions {
  rabbitmqUrl: string;
  prefix: string;
}

export class RabbitMessageChannel extends CheckedMessageChannel {
  readonly name = 'rabbitmq';
  private readonly names: RabbitMessageNames;
  private readonly connection: RabbitConnection;
  private readonly store: RabbitMessageStore;
  private storeReady: Promise<void> | undefined;
  /** What each connection has declared: a new connection (after a restart) declares again. */
  private readonly declared = new WeakMap<ChannelModel, Set<string>>();
  private readonly pops = new Set<Promise<unknown>>();
  private readonly subscriptions = new Set<Subscription>();
  /** Aborted by close: wakes pops from their backoff and from waiting for RabbitMQ. */
  private readonly stopping = new AbortController();

  constructor(options: RabbitMessageChannelOptions) {
    super();
    this.names = rabbitMessageNames(options.prefix);
    // Nothing connects before the first call, so an instance nobody uses costs nothing.
    this.connection = new RabbitConnection(options.rabbitmqUrl, 'message-channel');
    this.store = new RabbitMessageStore(this.connection, this.names.store);
    // Every waiting pop listens to it; many concurrent pops are no leak.
    setMaxListeners(0, this.stopping.signal);
  }

  protected async putText(key: string, text: string, ttlMs: number): Promise<void> {
    await this.startStore();
    await this.store.put(key, text, ttlMs);
  }

  protected async getText(key: string): Promise<string | undefined> {
    await this.startStore();
    return this.store.get(key);
  }

  protected async removeKey(key: string): Promise<void> {
    await this.startStore();
    await this.store.remove(key);
  }

  protected async pushText(queue: string, text: string): Promise<void> {
    const name = this.names.queue(queue);
    // Declared before sending: the default exchange drops what is routed to no queue.
    await this.declareQueue(name);
    await this.connection.publish('', name, Buffer.from(text, 'utf8'), { persistent: true }, PATIENCE_MS);
  }

  protected popText(queue: string, timeoutMs: number): Promise<string | undefined> {
    // The wait counts from the call, including a first pop's declare.
    const pop = this.poll(this.names.queue(queue), Date.now() + timeoutMs);
    this.pops.add(pop);
    return pop.finally(() => this.pops.delete(pop));
  }

  protected async publishText(topic: string, text: string): Promise<void> {
    const exchange = this.names.pubsub;
    // A send to a missing exchange is refused, and the connection would send it again and again.
    await this.declareOnce(exchange, (channel) => channel.assertExchange(exchange, 'direct', { durable: true }));
    // Not persistent: a value only live subscribers get has no use after a RabbitMQ restart.
    await this.connection.publish(exchange, topic, Buffer.from(text, 'utf8'), { persistent: false, mandatory: false }, PATIENCE_MS);
  }

  protected async subscribeText(topic: string, handler: TextHandler): Promise<Subscription> {
    const exchange = this.names.pubsub;
    let active = true;
    let chain = Promise.resolve();
    const spec: ConsumerSpec = {
      queue: '',
      prefetch: PUBSUB_PREFETCH,
      // Run on every new connection, before consuming: a fresh server-named queue, never
      // clashing with the old one the server may not have dropped yet, bound first, so the
      // subscription is live once consume resolves.
      declare: async (channel) => {
        await channel.assertExchange(exchange, 'direct', { durable: true });
        const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        await channel.bindQueue(queue, exchange, topic);
        return { queue };
      },
      onMessage: (delivery) => {
        const text = delivery.message.content.toString('utf8');
        // One at a time, in order; acknowledged once handled, so the prefetch bounds the backlog here.
        chain = chain
          .then(() => (active ? handler(text) : undefined))
          .catch(() => {})
          .then(() => delivery.ack());
      },
    };
    const consumer = await this.connection.consume(spec).catch((error: unknown) => {
      active = false;
      throw error;
    });
    const subscription: Subscription = {
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        this.subscriptions.delete(subscription);
        // Its queue is exclusive and auto-deleted: it goes with the consumer's channel.
        await consumer.close();
      },
    };
    this.subscriptions.add(subscription);
    if (this.closed) {
      // Closing began while it started, after close had ended the others.
      await subscription.unsubscribe();
      throw new ChannelClosedError(this.name);
    }
    return subscription;
  }

  protected async closeTransport(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.subscriptions].map((s) => s.unsubscribe()));
    await Promise.race([Promise.allSettled([...this.pops]), sleep(CLOSE_GRACE_MS, undefined, { ref: false })]);
    if (this.storeReady !== undefined) await this.storeReady.then(() => this.store.stop()).catch(() => {});
    await this.connection.close();
  }

  private async poll(queue: string, deadline: number): Promise<string | undefined> {
    for (let backoff = FIRST_POLL_MS; !this.closed; backoff = Math.min(backoff * 2, LAST_POLL_MS)) {
      const text = await this.take(queue, deadline);
      if (text !== undefined) return text;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(backoff, left), undefined, { signal: this.stopping.signal }).catch(() => {});
    }
    return undefined;
  }

  /** One basic.get: the next value of `queue`, or undefined when it is empty or the channel closes. */
  private async take(queue: string, deadline: number): Promise<string | undefined> {
    let sent = false;
    let abandoned = false;
    const got = (async () => {
      await this.declareQueue(queue);
      return this.connection.withChannel(async (channel) => {
        // A get sent after its pop gave up would take a value nobody receives.
        if (abandoned) return false;
        sent = true;
        return channel.get(queue, { noAck: true });
      });
    })();
    try {
      let message = await orGiveUp(got, Math.max(0, deadline - Date.now()) + POP_GRACE_MS, this.stopping.signal);
      // A get already sent may have taken a value: wait for its answer (at worst it fails with the socket).
      if (message === GAVE_UP && sent) message = await got;
      if (message === GAVE_UP) {
        abandoned = true;
        if (this.closed) return undefined;
        throw new ServiceUnavailableError('rabbitmq', `RabbitMQ did not answer a pop of ${queue} within its timeout and ${POP_GRACE_MS} ms more`);
      }
      return message === false ? undefined : message.content.toString('utf8');
    } catch (error) {
      if (this.closed) return undefined;
      throw error;
    }
  }

  private declareQueue(name: string): Promise<void> {
    return this.declareOnce(name, (channel) => channel.assertQueue(name, { durable: true, arguments: quorumQueue() }));
  }

  /** Runs `declare` once per connection, bounded: a RabbitMQ that is away fails the call rather than hang it. */
  private async declareOnce(name: string, declare: (channel: Channel) => Promise<unknown>): Promise<void> {
    const declared = (async () => {
      const model = await this.connection.connection();
      const names = this.declared.get(model) ?? new Set<string>();
      if (names.has(name)) return;
      await this.connection.withChannel(declare);
      this.declared.set(model, names.add(name));
    })();
    if ((await orGiveUp(declared, PATIENCE_MS, this.stopping.signal)) !== GAVE_UP) return;
    if (this.closed) throw new ChannelClosedError(this.name);
    throw new ServiceUnavailableError('rabbitmq', `RabbitMQ did not declare ${name} within ${PATIENCE_MS} ms`);
  }

  /** Memoised; a failure is forgotten so the next call tries again. */
  private startStore(): Promise<void> {
    this.storeReady ??= this.store.start().catch((error: unknown) => {
      this.storeReady = undefined;
      throw error;
    });
    return this.storeReady;
  }
}

/** `promise`'s outcome, or GAVE_UP once `ms` passed or `signal` aborted (what it waits for goes on). */
function orGiveUp<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T | typeof GAVE_UP> {
  promise.catch(() => {}); // a failure after giving up is nobody's to report
  return new Promise((resolve, reject) => {
    const finish = (outcome: () => void): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', giveUp);
      outcome();
    };
    const giveUp = (): void => finish(() => resolve(GAVE_UP));
    const timer = setTimeout(giveUp, ms);
    if (signal.aborted) giveUp();
    else signal.addEventListener('abort', giveUp, { once: true });
    promise.then((value) => finish(() => resolve(value)), (error: unknown) => finish(() => reject(error)));
  });
}

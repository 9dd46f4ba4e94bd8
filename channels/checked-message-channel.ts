// What every message channel does the same way, whatever carries the values: check
// names and arguments, turn values into JSON text and back, refuse work after close,
// and shield a subscription from its own handler's failures. Implementations move
// JSON text only.
import { createLogger } from '../core/log.js';
import { checkKey, checkMillis, checkName, decodeValue, encodeValue } from './message-channel-checks.js';
import { ChannelArgumentError, ChannelClosedError } from './message-channel-errors.js';
import { MAX_TTL_MS, MAX_WAIT_MS, type JsonValue, type MessageChannel, type MessageHandler, type Subscription } from './message-channel.js';

export type TextHandler = (text: string) => Promise<void>;

export abstract class CheckedMessageChannel implements MessageChannel {
  abstract readonly name: string;
  private closing: Promise<void> | undefined;
  private isClosed = false;
  private readonly subscriberLog = createLogger({ component: 'message-channel' });

  async put(key: string, value: JsonValue, ttlMs: number): Promise<void> {
    this.assertOpen();
    await this.putText(checkKey(key), encodeValue(value), checkMillis('ttlMs', ttlMs, MAX_TTL_MS));
  }

  async get(key: string): Promise<JsonValue | undefined> {
    this.assertOpen();
    const text = await this.getText(checkKey(key));
    return text === undefined ? undefined : decodeValue(text, `stored key ${key}`);
  }

  async remove(key: string): Promise<void> {
    this.assertOpen();
    await this.removeKey(checkKey(key));
  }

  async push(queue: string, value: JsonValue): Promise<void> {
    this.assertOpen();
    await this.pushText(checkName('queue', queue), encodeValue(value));
  }

  async pop(queue: string, timeoutMs: number): Promise<JsonValue | undefined> {
    this.assertOpen();
    const text = await this.popText(checkName('queue', queue), checkMillis('timeoutMs', timeoutMs, MAX_WAIT_MS));
    return text === undefined ? undefined : decodeValue(text, `queue ${queue}`);
  }

  async publish(topic: string, value: JsonValue): Promise<void> {
    this.assertOpen();
    await this.publishText(checkName('topic', topic), encodeValue(value));
  }

  async subscribe(topic: string, handler: MessageHandler): Promise<Subscription> {
    this.assertOpen();
    checkName('topic', topic);
    if (typeof handler !== 'function') throw new ChannelArgumentError('handler', handler, 'a function');
    return this.subscribeText(topic, async (text) => {
      try {
        await handler(decodeValue(text, `topic ${topic}`));
      } catch (error) {
        // One bad value or one failing call must not end the subscription.
        this.subscriberLog.warn('a subscriber could not take a published value; skipped', { topic, error });
      }
    });
  }

  close(): Promise<void> {
    // Marked closed before the transport starts closing, so work racing the close sees it.
    this.isClosed = true;
    this.closing ??= this.closeTransport();
    return this.closing;
  }

  protected get closed(): boolean {
    return this.isClosed;
  }

  private assertOpen(): void {
    if (this.closed) throw new ChannelClosedError(this.name);
  }

  protected abstract putText(key: string, text: string, ttlMs: number): Promise<void>;
  protected abstract getText(key: string): Promise<string | undefined>;
  protected abstract removeKey(key: string): Promise<void>;
  protected abstract pushText(queue: string, text: string): Promise<void>;
  protected abstract popText(queue: string, timeoutMs: number): Promise<string | undefined>;
  protected abstract publishText(topic: string, text: string): Promise<void>;
  /** Calls `handler` once per published text, one at a time; resolves once live. */
  protected abstract subscribeText(topic: string, handler: TextHandler): Promise<Subscription>;
  protected abstract closeTransport(): Promise<void>;
}

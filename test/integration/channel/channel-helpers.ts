// Helpers for the message channel suite: channels on the test's own prefix (closed at
// the end), a bounded wait that fails saying what it waited for, and a check that an
// operation is refused with a given StacklError code.
import { expect } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { StacklError } from '../../../core/errors.js';
import type { MessageChannel } from '../../../channels/message-channel.js';
import { messageChannel } from '../../../channels/start-message-channel.js';
import { token } from '../../support/names.js';

export type ChannelKind = 'kafka' | 'redis' | 'rabbitmq';

export class ChannelPool {
  private readonly opened: MessageChannel[] = [];

  constructor(
    private readonly prefix: string,
    private readonly redisUrl: () => string,
  ) {}

  /** A fresh instance, as another process of the deployment would have. */
  open(kind: ChannelKind): MessageChannel {
    const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: this.prefix, STACKL_PARTITIONS: '3', REDIS_URL: this.redisUrl() });
    const channel = messageChannel(config, { STACKL_CHANNEL: kind }, `test-mc-${token()}`);
    this.opened.push(channel);
    return channel;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled(this.opened.map((c) => c.close()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function eventually(done: () => boolean, what: () => string, timeoutMs = 20_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; !done(); await sleep(25)) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms: ${what()}`);
  }
}

/** The attempt fails with a StacklError of `code` (and, when given, of class `type`). */
export async function refused(attempt: () => Promise<unknown>, code: string, type?: abstract new (...args: never[]) => StacklError): Promise<void> {
  const error = await attempt().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(type ?? StacklError);
  expect((error as StacklError).code).toBe(code);
}

// The message channel's storage and queues, one behavioural suite for both
// implementations: `kafka` on the real broker (topics under a prefix of this file's own)
// and `redis` on a private redis-server. Each case uses fresh keys and queues, and a
// second instance plays another process of the deployment. Pub/sub and refusals have
// files of their own beside this one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonValue, MessageChannel } from '../../../channels/message-channel.js';
import { token, uniquePrefix } from '../../support/names.js';
import { PrivateRedis } from '../../support/redis-server.js';
import { ChannelPool, sleep, type ChannelKind } from './channel-helpers.js';

const redis = new PrivateRedis();
const pool = new ChannelPool(uniquePrefix('message-channel'), () => redis.url);

beforeAll(() => redis.start());
afterAll(async () => {
  await pool.closeAll();
  await redis.stop();
});

describe.each<ChannelKind>(['kafka', 'redis', 'rabbitmq'])('%s message channel', (kind) => {
  let a: MessageChannel;
  let b: MessageChannel;
  beforeAll(async () => {
    a = pool.open(kind);
    b = pool.open(kind);
    // The Kafka store joins its group on first use; later timings then measure the channel only.
    await Promise.all([a.get('warm-up'), b.get('warm-up')]);
  });

  it('stores JSON values that read back equal, on this instance and another, until removed', async () => {
    const key = `doc:${token()}`;
    const doc = { id: 7, name: 'é ✓ "quoted"', tags: ['a', 'b'], nested: { ok: true, none: null }, ratio: 0.25 };
    await a.put(key, doc, 60_000);
    expect(await a.get(key)).toEqual(doc);
    expect(await b.get(key)).toEqual(doc);
    for (const value of [null, 0, 'text', false, [], {}] as JsonValue[]) {
      await b.put(key, value, 60_000);
      expect(await a.get(key)).toEqual(value);
    }
    await a.remove(key);
    expect(await a.get(key)).toBeUndefined();
    expect(await b.get(key)).toBeUndefined();
    expect(await a.get(`absent:${token()}`)).toBeUndefined();
  });

  it('reads on any instance every write that completed before the read began', async () => {
    const key = `counter:${token()}`;
    for (let n = 0; n < 30; n += 1) {
      const [writer, reader] = n % 2 === 0 ? [a, b] : [b, a];
      await writer.put(key, n, 60_000);
      expect(await reader.get(key)).toBe(n);
    }
    // A new instance (a restarted process) reads what was written before it existed.
    expect(await pool.open(kind).get(key)).toBe(29);
    await a.remove(key);
    expect(await b.get(key)).toBeUndefined();
  });

  it('reads a value as gone once its ttl passed, while a longer-lived one stays', async () => {
    const [short, long] = [`short:${token()}`, `long:${token()}`];
    const putAt = Date.now();
    await a.put(short, { v: 1 }, 2_000);
    await a.put(long, { v: 2 }, 60_000);
    expect(await a.get(short)).toEqual({ v: 1 });
    expect(Date.now() - putAt, 'the first read must come before the ttl for this test to mean anything').toBeLessThan(2_000);
    await sleep(putAt + 2_500 - Date.now());
    expect(await a.get(short)).toBeUndefined();
    expect(await b.get(short)).toBeUndefined();
    expect(await b.get(long)).toEqual({ v: 2 });
  });

  it('pops values in the order they were pushed, then times out empty', async () => {
    const queue = `fifo-${token()}`;
    for (let n = 0; n < 5; n += 1) await a.push(queue, { n });
    const popped: (JsonValue | undefined)[] = [];
    for (let n = 0; n < 5; n += 1) popped.push(await b.pop(queue, 20_000));
    expect(popped).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    expect(await b.pop(queue, 300)).toBeUndefined();
  });

  it('gives each value to exactly one of two poppers, in push order, also when one leaves midway', { timeout: 90_000 }, async () => {
    const queue = `shared-${token()}`;
    const count = 40;
    for (let n = 0; n < count; n += 1) await (n % 2 === 0 ? a : b).push(queue, n);
    const poppers = [pool.open(kind), pool.open(kind)] as const;
    const seen: [number[], number[]] = [[], []];
    let total = 0;
    let left: 0 | 1 | undefined;
    const pop = async (i: 0 | 1): Promise<void> => {
      for (const until = Date.now() + 60_000; total < count && left !== i && Date.now() < until; ) {
        const value = await poppers[i].pop(queue, 300);
        if (value === undefined) continue;
        seen[i].push(value as number);
        total += 1;
        if (total === count / 2) {
          // The busier popper leaves: on Kafka it owns the queue, so the rest must be handed over.
          left = seen[0].length >= seen[1].length ? 0 : 1;
          await poppers[left].close();
        }
      }
    };
    await Promise.all([pop(0), pop(1)]);
    expect([...seen[0], ...seen[1]].sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, n) => n));
    for (const values of seen) expect(values).toEqual([...values].sort((x, y) => x - y));
    expect(seen[left === 0 ? 1 : 0].length, 'the popper that stayed took the rest').toBeGreaterThan(0);
    // Nothing left over, and nothing handed out twice.
    expect(await a.pop(queue, 300)).toBeUndefined();
  });

  it('serves concurrent pops on one instance with different values', async () => {
    const queue = `concurrent-${token()}`;
    const pops = Promise.all([a.pop(queue, 20_000), a.pop(queue, 20_000)]);
    await b.push(queue, 'x');
    await b.push(queue, 'y');
    expect((await pops).sort()).toEqual(['x', 'y']);
  });

  it('keeps the values nobody popped for the next popper, and not the popped ones', { timeout: 60_000 }, async () => {
    const queue = `handover-${token()}`;
    for (const n of [1, 2, 3]) await a.push(queue, n);
    const first = pool.open(kind);
    expect(await first.pop(queue, 20_000)).toBe(1);
    await first.close();
    const next = pool.open(kind);
    expect(await next.pop(queue, 20_000)).toBe(2);
    expect(await next.pop(queue, 20_000)).toBe(3);
    expect(await next.pop(queue, 500)).toBeUndefined();
  });

  it('answers a pop on an empty queue with undefined once its timeout passed', async () => {
    const started = Date.now();
    expect(await a.pop(`empty-${token()}`, 800)).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

// The message channel's publish/subscribe, for both implementations (`kafka` on the real
// broker, `redis` on a private redis-server): fan-out to every live subscription in
// publish order, nothing for one that left, and a failing handler skipping one value only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonValue, MessageChannel } from '../../../channels/message-channel.js';
import { token, uniquePrefix } from '../../support/names.js';
import { PrivateRedis } from '../../support/redis-server.js';
import { ChannelPool, eventually, sleep, type ChannelKind } from './channel-helpers.js';

const redis = new PrivateRedis();
const pool = new ChannelPool(uniquePrefix('message-channel-pubsub'), () => redis.url);

beforeAll(() => redis.start());
afterAll(async () => {
  await pool.closeAll();
  await redis.stop();
});

describe.each<ChannelKind>(['kafka', 'redis', 'rabbitmq'])('%s message channel', (kind) => {
  let a: MessageChannel;
  let b: MessageChannel;
  beforeAll(() => {
    a = pool.open(kind);
    b = pool.open(kind);
  });

  it('publishes to every live subscriber in order, not to one that unsubscribed, past a failing handler', { timeout: 90_000 }, async () => {
    const topic = `events-${token()}`;
    const first: JsonValue[] = [];
    const second: JsonValue[] = [];
    const gone: JsonValue[] = [];
    const picky: JsonValue[] = [];
    let pickyCalls = 0;
    // Unsubscribed first, so the live ones are the newest: publishing right after the
    // last subscribe resolved proves that "resolved" means "live".
    const s4 = await a.subscribe(topic, (v) => void gone.push(v));
    await s4.unsubscribe();
    const s1 = await a.subscribe(topic, (v) => void first.push(v));
    const s2 = await b.subscribe(topic, async (v) => void second.push(v));
    const s3 = await b.subscribe(topic, (v) => {
      pickyCalls += 1;
      if (pickyCalls === 1) throw new Error('this handler fails on its first value');
      picky.push(v);
    });
    const values: JsonValue[] = [{ n: 1 }, 'two', 3, null, [4, { five: 5 }]];
    for (const [i, value] of values.entries()) await (i % 2 === 0 ? a : b).publish(topic, value);
    const all = () => first.length === values.length && second.length === values.length && pickyCalls === values.length;
    await eventually(all, () => `first ${first.length}, second ${second.length}, picky ${pickyCalls} of ${values.length}`);
    expect(first).toEqual(values);
    expect(second).toEqual(values);
    // The failing call skipped its value only; the subscription went on.
    expect(picky).toEqual(values.slice(1));
    await sleep(500);
    expect(gone).toEqual([]);
    await Promise.all([s1.unsubscribe(), s2.unsubscribe(), s3.unsubscribe()]);
    await a.publish(topic, 'after everyone left');
    await sleep(500);
    expect(first).toEqual(values);
    expect(second).toEqual(values);
  });

  it('keeps topics apart', async () => {
    const [mine, other] = [`mine-${token()}`, `other-${token()}`];
    const heard: JsonValue[] = [];
    const overheard: JsonValue[] = [];
    const subscriptions = [await a.subscribe(mine, (v) => void heard.push(v)), await a.subscribe(other, (v) => void overheard.push(v))];
    await b.publish(mine, 'for mine');
    await eventually(() => heard.length === 1, () => 'the value published to its own topic');
    await sleep(300);
    expect(heard).toEqual(['for mine']);
    expect(overheard).toEqual([]);
    await Promise.all(subscriptions.map((s) => s.unsubscribe()));
  });
});

// Redis as the channel will use it: a reliable queue (atomic move into a processing
// list, acknowledge by removal) and publish/subscribe, on the real server.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { token } from '../support/names.js';

const redis = new Redis(loadConfig().redisUrl, { maxRetriesPerRequest: 1 });
const prefix = `test:${token()}:`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('Redis', () => {
  it('moves work atomically into a processing list and acknowledges it', async () => {
    const queue = `${prefix}queue`;
    const processing = `${prefix}processing:worker-1`;
    await redis.lpush(queue, JSON.stringify({ taskId: 'a' }), JSON.stringify({ taskId: 'b' }));
    const taken = await redis.lmove(queue, processing, 'RIGHT', 'LEFT');
    expect(JSON.parse(taken ?? 'null')).toEqual({ taskId: 'a' });
    expect(await redis.lrange(processing, 0, -1)).toEqual([taken]);
    expect(await redis.lrem(processing, 1, taken ?? '')).toBe(1);
    expect(await redis.llen(queue)).toBe(1);
  });

  it('delivers published messages to a subscriber', async () => {
    const channel = `${prefix}results`;
    const subscriber = new Redis(loadConfig().redisUrl);
    try {
      await subscriber.subscribe(channel);
      const received = new Promise<string>((resolve) => subscriber.on('message', (_c: string, message: string) => resolve(message)));
      await redis.publish(channel, JSON.stringify({ ok: true }));
      expect(JSON.parse(await received)).toEqual({ ok: true });
    } finally {
      subscriber.disconnect();
    }
  });
});

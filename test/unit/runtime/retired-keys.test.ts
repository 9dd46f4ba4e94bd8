import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RetiredKeys } from '../../../processors/runtime/retired-keys.js';

describe('RetiredKeys', () => {
  it('agrees with a Map through thousands of adds, re-adds and deletes, growing as it goes', () => {
    const keys = new RetiredKeys(8);
    const model = new Map<string, number>();
    const pool = Array.from({ length: 3000 }, () => randomUUID());
    let seed = 17;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let step = 0; step < 20_000; step++) {
      const key = pool[random() % pool.length] as string;
      if (random() % 3 === 0) {
        keys.delete(key);
        model.delete(key);
      } else {
        keys.add(key, step + 1);
        model.set(key, step + 1);
      }
    }
    expect(keys.size).toBe(model.size);
    for (const key of pool) expect(keys.retiredAt(key)).toBe(model.get(key));
  });

  it('lists the keys whose window is over, and keeps keys that are not UUIDs too', () => {
    const keys = new RetiredKeys();
    const old = randomUUID();
    const recent = randomUUID();
    keys.add(old, 1_000);
    keys.add(recent, 5_000);
    keys.add('counter-key', 2_000);
    expect(keys.expired(3_000, 10).sort()).toEqual([old, 'counter-key'].sort());
    expect(keys.expired(3_000, 1)).toHaveLength(1);
    expect(keys.has(recent)).toBe(true);
    expect(keys.has(randomUUID())).toBe(false);
    expect(keys.size).toBe(3);
  });
});

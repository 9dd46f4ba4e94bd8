import { describe, expect, it } from 'vitest';
import { randomClusterId } from '../../../deploy/local/kafka-broker.js';

describe('a KRaft cluster id', () => {
  it('is 22 base64url characters and never starts with "-" (kafka-storage would read it as an option)', () => {
    // One unguarded id in 64 starts with "-": among 5,000, at least one would, all but surely.
    const ids = Array.from({ length: 5_000 }, () => randomClusterId());
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
  });
});

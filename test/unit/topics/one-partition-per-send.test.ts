import { describe, expect, it } from 'vitest';
import { onePartitionPerSend } from '../../../topics/one-partition-per-send.js';

describe('one partition per send', () => {
  it('groups messages by partition in their order, and keeps a message without a partition alone', () => {
    const messages = [
      { key: 'a', partition: 1 },
      { key: 'b', partition: 0 },
      { key: 'c', partition: 1 },
      { key: 'd' },
      { key: 'e' },
      { key: 'f', partition: 0 },
    ];
    expect(onePartitionPerSend(messages).map((group) => group.map((m) => m.key))).toEqual([['a', 'c'], ['b', 'f'], ['d'], ['e']]);
  });

  it('leaves a send to one partition whole', () => {
    const messages = [{ key: 'a', partition: 2 }, { key: 'b', partition: 2 }];
    expect(onePartitionPerSend(messages)).toEqual([messages]);
  });
});

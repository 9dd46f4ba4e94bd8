import { describe, expect, it } from 'vitest';
import { onePartitionPerSend, unanswered } from '../../../topics/one-partition-per-send.js';

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

describe('the partitions a send did not write', () => {
  const answer = (topicName: string, partition: number) => ({ topicName, partition, errorCode: 0, baseOffset: '0' });

  it('are those its answer does not mention for the topic', () => {
    const messages = [{ key: 'a', partition: 0 }, { key: 'b', partition: 1 }, { key: 'c', partition: 2 }, { key: 'd', partition: 1 }];
    // What kafkajs answers when partition 1 moved to the broker that had already answered for 0 and 2.
    expect(unanswered('t', messages, [answer('t', 0), answer('t', 2), answer('other', 1)]).map((m) => m.key)).toEqual(['b', 'd']);
    expect(unanswered('t', messages, [answer('t', 0), answer('t', 1), answer('t', 2)])).toEqual([]);
  });
});

import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../topics/partitioner.js';

const { Partitioners } = kafkajs;

describe('partitionForKey', () => {
  it('agrees with kafkajs’ default (Java-compatible) partitioner for many keys and counts', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 6, 12, 100]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, id) => ({ partitionId: id, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      for (let i = 0; i < 500; i++) {
        const key = i % 3 === 0 ? `task-${i}` : `0190f5d2-7a3c-7cc1-8d2e-${String(i).padStart(12, '0')}`;
        expect(partitionForKey(key, partitions)).toBe(partitioner({ topic: 't', partitionMetadata, message: { key, value: null } }));
      }
    }
  });

  it('matches the reference murmur2 values of the Java client', () => {
    // Values from Kafka's UtilsTest (murmur2 of these UTF-8 strings).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
  });
});

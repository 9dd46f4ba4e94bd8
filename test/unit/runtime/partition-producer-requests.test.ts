import { describe, expect, it } from 'vitest';
import { byDestination, slices } from '../../../processors/runtime/partition-producer.js';
import type { OutputRecord } from '../../../processors/runtime/types.js';

const record = (topic: string, partition: number | undefined, key: string, bytes = 10): OutputRecord => ({ topic, partition, key, value: Buffer.alloc(bytes) });

describe('the requests of a transaction', () => {
  it('go to one partition each, keeping the order of each partition\'s records', () => {
    const groups = byDestination([record('events', 2, 'a'), record('changelog', 2, 'a'), record('events', 2, 'b'), record('dispatch', 2, 'a'), record('events', 3, 'c')]);
    expect(groups.map((g) => [g.topic, g.messages.map((m) => `${String(m.key)}@${m.partition}`)])).toEqual([
      ['events', ['a@2', 'b@2']],
      ['events', ['c@3']],
      ['changelog', ['a@2']],
      ['dispatch', ['a@2']],
    ]);
  });

  it('send each record without a partition alone, for the partitioner to place (two could land on two leaders)', () => {
    const groups = byDestination([record('reply.x', undefined, 'a'), record('reply.x', undefined, 'b'), record('reply.y', undefined, 'c')]);
    expect(groups.map((g) => [g.topic, g.messages.map((m) => m.key), g.messages.every((m) => m.partition === undefined)])).toEqual([
      ['reply.x', ['a'], true],
      ['reply.x', ['b'], true],
      ['reply.y', ['c'], true],
    ]);
  });

  it('are cut into slices under the byte bound, a bigger record alone', () => {
    const cut = slices([record('t', 0, 'a', 300), record('t', 0, 'b', 300), record('t', 0, 'c', 2_000), record('t', 0, 'd', 10)], 1_000);
    expect(cut.map((s) => s.map((r) => r.key))).toEqual([['a', 'b'], ['c'], ['d']]);
  });
});

import { describe, expect, it } from 'vitest';
import { byDestination, slices } from '../../../processors/runtime/partition-producer.js';
import type { OutputRecord } from '../../../processors/runtime/types.js';

const record = (topic: string, partition: number | undefined, key: string, bytes = 10): OutputRecord => ({ topic, partition, key, value: Buffer.alloc(bytes) });

describe('the requests of a transaction', () => {
  it('go to one partition each, keeping the order of each partition\'s records', () => {
    const groups = byDestination([record('events', 2, 'a'), record('changelog', 2, 'a'), record('events', 2, 'b'), record('dispatch', 2, 'a'), record('events', 3, 'c')]);
    expect(groups.map((g) => [g.topic, g.messages.map((m) => `${String(m.key)}@${m.partition}`)])).toEqual([
      ['events', ['a@2', 'b@2']],
      ['changelog', ['a@2']],
      ['dispatch', ['a@2']],
      ['events', ['c@3']],
    ]);
  });

  it('group records without a partition by topic, for the partitioner to place', () => {
    const groups = byDestination([record('reply.x', undefined, 'a'), record('reply.x', undefined, 'b'), record('reply.y', undefined, 'c')]);
    expect(groups.map((g) => [g.topic, g.messages.length, g.messages.every((m) => m.partition === undefined)])).toEqual([
      ['reply.x', 2, true],
      ['reply.y', 1, true],
    ]);
  });

  it('are cut into slices under the byte bound, a bigger record alone', () => {
    const cut = slices([record('t', 0, 'a', 300), record('t', 0, 'b', 300), record('t', 0, 'c', 2_000), record('t', 0, 'd', 10)], 1_000);
    expect(cut.map((s) => s.map((r) => r.key))).toEqual([['a', 'b'], ['c'], ['d']]);
  });
});

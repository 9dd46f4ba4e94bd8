import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { assignPartitionNumbers, claimedPartitions, type MemberClaim } from '../../../processors/runtime/co-partitioned-assigner.js';

const fresh = (...ids: string[]): MemberClaim[] => ids.map((memberId) => ({ memberId, owned: [] }));

/** Every number 0..partitions-1 exactly once, and shares that differ by at most one. */
function expectBalancedCover(result: Map<string, number[]>, partitions: number): void {
  expect([...result.values()].flat().sort((a, b) => a - b)).toEqual([...Array(partitions).keys()]);
  const sizes = [...result.values()].map((numbers) => numbers.length);
  expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
}

function moves(before: Map<string, number[]>, after: Map<string, number[]>): number {
  let moved = 0;
  for (const [member, numbers] of after) for (const p of numbers) if (!(before.get(member) ?? []).includes(p)) moved += 1;
  return moved;
}

describe('assignPartitionNumbers', () => {
  it('deals every partition number to exactly one member, evenly, when nobody owns anything yet', () => {
    const result = assignPartitionNumbers(fresh('m-b', 'm-a', 'm-c'), 8);
    expectBalancedCover(result, 8);
    expect(result.get('m-a')).toEqual([0, 1, 2]);
    expect(result.get('m-b')).toEqual([3, 4, 5]);
    expect(result.get('m-c')).toEqual([6, 7]);
  });

  it('gives one member everything and leaves extra members idle', () => {
    expect(assignPartitionNumbers(fresh('only'), 3).get('only')).toEqual([0, 1, 2]);
    const three = assignPartitionNumbers(fresh('a', 'b', 'c'), 2);
    expectBalancedCover(three, 2);
    expect(three.get('c')).toEqual([]);
  });

  it('moves only what the newcomer takes when a third member joins two (2 of 6, where dealing again moved 4)', () => {
    const before = assignPartitionNumbers(fresh('a', 'b'), 6);
    const claims = [...before].map(([memberId, owned]) => ({ memberId, owned }));
    const after = assignPartitionNumbers([...claims, { memberId: 'c', owned: [] }], 6);
    expectBalancedCover(after, 6);
    expect(moves(before, after)).toBe(2);
    expect(after.get('c')).toHaveLength(2);
  });

  it('moves only the partitions of a member that left', () => {
    const before = assignPartitionNumbers(fresh('a', 'b', 'c'), 12);
    const claims = [...before].filter(([memberId]) => memberId !== 'b').map(([memberId, owned]) => ({ memberId, owned }));
    const after = assignPartitionNumbers(claims, 12);
    expectBalancedCover(after, 12);
    expect(after.get('a')).toEqual(expect.arrayContaining(before.get('a') ?? []));
    expect(after.get('c')).toEqual(expect.arrayContaining(before.get('c') ?? []));
  });

  it('hands each partition to one member when claims conflict, and ignores numbers that do not exist', () => {
    const result = assignPartitionNumbers(
      [
        { memberId: 'a', owned: [0, 1, 2, 3] },
        { memberId: 'b', owned: [2, 3, 4, 99, -1, 1.5] },
        { memberId: 'c', owned: [0] },
      ],
      6,
    );
    expectBalancedCover(result, 6);
    expect(result.get('a')).toEqual([0, 1]);
    expect(result.get('b')).toEqual([2, 3]);
  });

  it('gives the larger shares to the members that claim the most', () => {
    const result = assignPartitionNumbers(
      [
        { memberId: 'a', owned: [0] },
        { memberId: 'b', owned: [1, 2, 3, 4] },
      ],
      5,
    );
    expect(result.get('b')).toEqual([1, 2, 3]);
    expect(result.get('a')).toEqual([0, 4]);
  });
});

describe('claimedPartitions', () => {
  const metadata = (userData: Buffer) => kafkajs.AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['t'], userData });

  it('reads the numbers a member put in its join metadata', () => {
    expect(claimedPartitions(metadata(Buffer.from('[0,4,5]')))).toEqual([0, 4, 5]);
  });

  it('reads nothing from an older member (no user data), garbage or a buffer that is not metadata', () => {
    expect(claimedPartitions(metadata(Buffer.alloc(0)))).toEqual([]);
    expect(claimedPartitions(metadata(Buffer.from('{not json')))).toEqual([]);
    expect(claimedPartitions(metadata(Buffer.from('{"a":1}')))).toEqual([]);
    expect(claimedPartitions(Buffer.from([1, 2, 3]))).toEqual([]);
  });
});

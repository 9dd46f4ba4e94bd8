import { describe, expect, it } from 'vitest';
import { assignPartitionNumbers } from '../../../processors/runtime/co-partitioned-assigner.js';

describe('assignPartitionNumbers', () => {
  it('deals every partition number to exactly one member, evenly', () => {
    const result = assignPartitionNumbers(['m-b', 'm-a', 'm-c'], 8);
    expect(result.get('m-a')).toEqual([0, 3, 6]);
    expect(result.get('m-b')).toEqual([1, 4, 7]);
    expect(result.get('m-c')).toEqual([2, 5]);
    expect([...result.values()].flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('gives one member everything and leaves extra members idle', () => {
    expect(assignPartitionNumbers(['only'], 3).get('only')).toEqual([0, 1, 2]);
    expect(assignPartitionNumbers(['a', 'b', 'c'], 2).get('c')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../../../processors/runtime/deadline-heap.js';
import { PartitionTable } from '../../../processors/runtime/table.js';

describe('DeadlineHeap', () => {
  it('pops entries in deadline order whatever the insertion order', () => {
    const heap = new DeadlineHeap();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const times = Array.from({ length: 1000 }, () => random() % 10_000);
    times.forEach((at, i) => heap.push({ at, key: `k${i}` }));
    const popped: number[] = [];
    while (heap.size > 0) popped.push(heap.pop()?.at ?? -1);
    expect(popped).toEqual([...times].sort((a, b) => a - b));
    expect(heap.pop()).toBeUndefined();
  });
});

describe('PartitionTable deadlines', () => {
  const table = () => new PartitionTable<{ at: number | null }>((v) => v.at);

  it('returns only keys whose current deadline is due, once, and skips moved deadlines', () => {
    const t = table();
    t.apply(new Map([['a', { at: 10 }], ['b', { at: 20 }], ['c', { at: null }]]));
    t.apply(new Map([['a', { at: 30 }]]));
    expect(t.nextDeadline()).toBe(20);
    expect(t.takeDue(25, 10)).toEqual(['b']);
    expect(t.takeDue(35, 10)).toEqual(['a']);
    expect(t.nextDeadline()).toBeUndefined();
  });

  it('forgets deleted keys and puts back keys whose transaction failed', () => {
    const t = table();
    t.apply(new Map([['a', { at: 10 }], ['b', { at: 10 }]]));
    t.apply(new Map([['a', null]]));
    const due = t.takeDue(10, 10);
    expect(due).toEqual(['b']);
    t.requeue(due);
    expect(t.takeDue(10, 10)).toEqual(['b']);
    expect(t.size).toBe(1);
  });
});

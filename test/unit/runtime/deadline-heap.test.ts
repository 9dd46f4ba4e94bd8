import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../../../processors/runtime/deadline-heap.js';
import { PartitionTable } from '../../../processors/runtime/table.js';

function pseudoRandom(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31);
}

describe('DeadlineHeap', () => {
  it('pops entries in deadline order whatever the insertion order', () => {
    const heap = new DeadlineHeap();
    const random = pseudoRandom(7);
    const times = Array.from({ length: 1000 }, () => random() % 10_000);
    times.forEach((at, i) => heap.set(`k${i}`, at));
    const popped: number[] = [];
    while (heap.size > 0) popped.push(heap.pop()?.at ?? -1);
    expect(popped).toEqual([...times].sort((a, b) => a - b));
    expect(heap.pop()).toBeUndefined();
  });

  it('keeps one entry per key however often its time moves, and stays ordered', () => {
    const heap = new DeadlineHeap();
    const random = pseudoRandom(11);
    const latest = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const key = `k${random() % 50}`;
      if (random() % 7 === 0) {
        heap.delete(key);
        latest.delete(key);
      } else {
        const at = random() % 10_000;
        heap.set(key, at);
        latest.set(key, at);
      }
    }
    expect(heap.size).toBe(latest.size);
    for (const [key, at] of latest) expect(heap.timeOf(key)).toBe(at);
    const popped: number[] = [];
    while (heap.size > 0) popped.push(heap.pop()?.at ?? -1);
    expect(popped).toEqual([...latest.values()].sort((a, b) => a - b));
  });
});

describe('PartitionTable deadlines', () => {
  const table = () => new PartitionTable<{ at: number | null }>((v) => v.at);

  it('returns only keys whose current deadline is due, once, and follows moved deadlines', () => {
    const t = table();
    t.apply(new Map([['a', { at: 10 }], ['b', { at: 20 }], ['c', { at: null }]]));
    t.apply(new Map([['a', { at: 30 }]]));
    expect(t.nextDeadline()).toBe(20);
    expect(t.takeDue(25, 10)).toEqual(['b']);
    expect(t.takeDue(35, 10)).toEqual(['a']);
    expect(t.nextDeadline()).toBeUndefined();
  });

  it('holds one index entry per key, however often a key is written with the same deadline', () => {
    const t = table();
    for (let i = 0; i < 1000; i++) t.apply(new Map([['beating', { at: 50 }]]));
    t.apply(new Map([['other', { at: 60 }]]));
    expect(t.deadlineEntries).toBe(2);
    t.apply(new Map([['beating', null]]));
    expect(t.deadlineEntries).toBe(1);
  });

  it('forgets deleted keys, puts back keys whose transaction failed, and retries a failed handler later', () => {
    const t = table();
    t.apply(new Map([['a', { at: 10 }], ['b', { at: 10 }]]));
    t.apply(new Map([['a', null]]));
    const due = t.takeDue(10, 10);
    expect(due).toEqual(['b']);
    expect(t.nextDeadline()).toBeUndefined();
    t.putBack(due);
    expect(t.takeDue(10, 10)).toEqual(['b']);
    t.retryAt('b', 500);
    expect(t.takeDue(400, 10)).toEqual([]);
    expect(t.takeDue(500, 10)).toEqual(['b']);
    expect(t.size).toBe(1);
  });
});

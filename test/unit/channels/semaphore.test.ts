import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../../channels/semaphore.js';

describe('Semaphore.acquireWithin', () => {
  it('takes a free slot at once', async () => {
    const slots = new Semaphore(1);
    expect(await slots.acquireWithin(10)).toBe(true);
  });

  it('gives up when no slot frees in time, and the slot released later goes to the next waiter, not to the one that gave up', async () => {
    const slots = new Semaphore(1);
    await slots.acquire();
    expect(await slots.acquireWithin(20)).toBe(false);
    const next = slots.acquireWithin(1_000);
    slots.release();
    expect(await next).toBe(true);
    // The slot is held again: one more caller waits, and gets it only after a release.
    expect(await slots.acquireWithin(20)).toBe(false);
    slots.release();
    expect(await slots.acquireWithin(20)).toBe(true);
  });

  it('acquires when a slot frees while it waits', async () => {
    const slots = new Semaphore(1);
    await slots.acquire();
    const waiting = slots.acquireWithin(1_000);
    setTimeout(() => slots.release(), 20);
    expect(await waiting).toBe(true);
  });
});

// The stall watch names partitions that stopped moving, and why; it stays quiet while they move.
import { describe, expect, it } from 'vitest';
import { STALL_AFTER_MS, StallWatch, type PartitionProgress } from '../../../processors/runtime/stall-watch.js';
import { createLogger } from '../../../core/log.js';

const T0 = 1_750_000_000_000;
const watch = () => new StallWatch(createLogger({ component: 'test' }));
const ready = (over: Partial<PartitionProgress> = {}): PartitionProgress => ({ partition: 0, state: 'ready', lastCommitAt: T0, inputs: [{ topic: 'requests', highWatermark: 10n, next: 10n }], ...over });

describe('StallWatch', () => {
  it('is quiet while partitions commit, or have nothing to do however long', () => {
    const w = watch();
    expect(w.stalled(T0 + 1_000, [ready()])).toEqual([]);
    expect(w.stalled(T0 + 10 * STALL_AFTER_MS, [ready()])).toEqual([]);
  });

  it('names a partition whose records wait while nothing was committed for long, with how many wait', () => {
    const behind = ready({ inputs: [{ topic: 'requests', highWatermark: 250n, next: 10n }, { topic: 'results', highWatermark: 5n, next: 5n }] });
    expect(watch().stalled(T0 + STALL_AFTER_MS - 1, [behind])).toEqual([]);
    expect(watch().stalled(T0 + STALL_AFTER_MS, [behind])).toEqual([{ partition: 0, why: 'records wait and nothing was committed', forMs: STALL_AFTER_MS, waiting: { requests: 240 } }]);
  });

  it('names a partition without a ready worker once it has been so for long, counted from when it was first seen so', () => {
    const w = watch();
    const restoring = ready({ partition: 3, state: 'restoring' });
    expect(w.stalled(T0, [restoring])).toEqual([]);
    expect(w.stalled(T0 + STALL_AFTER_MS, [restoring])).toEqual([{ partition: 3, why: 'restoring', forMs: STALL_AFTER_MS }]);
    // Ready again: the spell ends, and a new one counts from its own start.
    expect(w.stalled(T0 + STALL_AFTER_MS + 1, [ready({ partition: 3, lastCommitAt: T0 + STALL_AFTER_MS })])).toEqual([]);
    expect(w.stalled(T0 + STALL_AFTER_MS + 2, [restoring])).toEqual([]);
  });

  it('names a partition whose one transaction has run for long', () => {
    expect(watch().stalled(T0 + STALL_AFTER_MS + 5, [ready({ busySince: T0 + 5 })])).toEqual([{ partition: 0, why: 'one transaction has run for long', forMs: STALL_AFTER_MS }]);
  });
});

import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../core/log.js';
import { PartitionTracker } from '../../../processors/projection/partition-tracker.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

function tracker(stored: Map<number, number>, stopAt?: Map<number, number>) {
  const calls: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const t = new PartitionTracker({
    stopAt,
    stored: async () => {
      await gate;
      return stored;
    },
    pause: (ps) => calls.push(`pause ${ps.join(',')}`),
    resume: (ps) => calls.push(`resume ${ps.join(',')}`),
    seek: (p, o) => calls.push(`seek ${p}@${o}`),
    logger: quiet,
  });
  return { t, calls, release };
}

describe('PartitionTracker', () => {
  it('pauses a new assignment at once, seeks each partition to its stored offset, then resumes it', async () => {
    const { t, calls, release } = tracker(new Map([[0, 42]]));
    t.assigned([0, 1]);
    expect(calls).toEqual(['pause 0,1']);
    expect(t.isActive(0)).toBe(false);
    release();
    await t.firstAssignment();
    expect(calls).toEqual(['pause 0,1', 'seek 0@42', 'seek 1@0', 'resume 0,1']);
    expect([t.isActive(0), t.isActive(1), t.isActive(2)]).toEqual([true, true, false]);
  });

  it('ignores a stale assignment whose offsets arrive after a newer one', async () => {
    const { t, calls, release } = tracker(new Map());
    t.assigned([0, 1]);
    t.assigned([1]);
    release();
    await t.firstAssignment();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(calls).toEqual(['pause 0,1', 'pause 1', 'seek 1@0', 'resume 1']);
    expect(t.owned()).toEqual([1]);
  });

  it('replay: a partition stops at its stop offset; finished once all of them did', async () => {
    const { t, calls, release } = tracker(new Map([[1, 5]]), new Map([[0, 10], [1, 5]]));
    t.assigned([0, 1]);
    release();
    await t.firstAssignment();
    expect(calls).toContain('pause 1');
    expect(calls).not.toContain('seek 1@5');
    let finished = false;
    void t.finished().then(() => (finished = true));
    t.reached(0, 9);
    await Promise.resolve();
    expect(finished).toBe(false);
    t.reached(0, 10);
    await t.finished();
    expect(t.position(0)).toBe(10);
  });
});

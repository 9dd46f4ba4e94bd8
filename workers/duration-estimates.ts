// How long work of one kind has taken on this worker lately, to tell an order that can
// no longer finish before its deadline from one that might. The estimate is the
// shortest recent success: skipping work that could still have finished costs a task,
// so only an order with less time left than the quickest recent run is given up.
import type { WorkOrder } from '../channels/work-channel.js';

/** Attempts and rollbacks of one kind and action take different times. */
export function durationKey(order: WorkOrder): string {
  const { task } = order.body;
  return `${order.type} ${task.kind}/${task.action}`;
}

export class DurationEstimates {
  private readonly recent = new Map<string, number[]>();

  constructor(
    /** Runs remembered per key: recent enough to follow a change in the work's speed. */
    private readonly keep = 20,
    /** Below this many runs there is no estimate: one fast run may be luck. */
    private readonly minRuns = 3,
  ) {}

  record(key: string, ms: number): void {
    const runs = this.recent.get(key) ?? [];
    runs.push(ms);
    if (runs.length > this.keep) runs.shift();
    this.recent.set(key, runs);
  }

  /** The quickest of the recent runs, or undefined while there are too few to tell. */
  shortest(key: string): number | undefined {
    const runs = this.recent.get(key);
    if (runs === undefined || runs.length < this.minRuns) return undefined;
    return Math.min(...runs);
  }
}

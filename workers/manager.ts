// The seed's processing hierarchy: the worker takes a task and picks a manager by its
// kind; the manager does the persistent work (datastore writes, agent calls) and
// decides the result; handlers do pure computation for it. Managers never talk to the
// channel: the worker reports what they return.
import type { TaskSpec } from '../schemas/index.js';
import type { WorkOrder } from '../channels/work-channel.js';

export interface WorkContext {
  task: TaskSpec;
  /** The fencing token: every write the manager makes carries it. */
  attempt: number;
  /** After this the broker has moved on; results would be stale. */
  deadlineAt: number;
  /** Aborted at the deadline or when the worker shuts down. */
  signal: AbortSignal;
  progress(percent: number, message?: string): Promise<void>;
  /** Reports the attempt alive now (the worker also heartbeats by itself when the task sets a heartbeat timeout). */
  heartbeat(): Promise<void>;
  /**
   * Await before the attempt's first change to anything outside the manager (a datastore
   * write, an agent call) when the manager reports starts lazily (`startReport:
   * 'before-change'`): the worker reports AttemptStarted once. If the task failed while
   * the order queued, that report is what makes the broker roll back again after this
   * attempt's changes. Harmless to call more than once, or when the start is already out.
   */
  beforeChange(): Promise<void>;
}

export type AttemptOutcome =
  | { type: 'succeeded'; output: unknown }
  | { type: 'failed'; message: string; retriable: boolean }
  /** The manager chose not to answer (the probe's `hang`): the broker's deadline decides. */
  | { type: 'silent' };

export type RollbackOutcome = { type: 'succeeded' } | { type: 'failed'; message: string } | { type: 'silent' };

export interface RollbackContext extends Omit<WorkContext, 'attempt' | 'beforeChange' | 'heartbeat'> {
  rollbackAttempt: number;
  /** The attempt whose effects must be undone. */
  failedAttempt: number;
}

export interface Manager {
  run(context: WorkContext): Promise<AttemptOutcome>;
  rollback(context: RollbackContext): Promise<RollbackOutcome>;
  /**
   * The least time this work takes, when the task itself says (the probe's durationMs);
   * without it the worker learns from its recent runs. An order with less time left
   * before its deadline is not started.
   */
  expectedMs?(order: WorkOrder): number | undefined;
  /**
   * When the worker reports an attempt's start. `before-run` (the default): before the
   * manager runs, always. `before-change`: only when the manager calls `beforeChange()`,
   * or when the attempt runs longer than the worker's start-report delay, or heartbeats;
   * a quick attempt's result is then its first report and the broker records the start
   * with it (one record and one transaction fewer per task). Only for managers that call
   * `beforeChange()` before every change they make, or make none.
   */
  startReport?: 'before-run' | 'before-change';
}

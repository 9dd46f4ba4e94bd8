// The seed's processing hierarchy: the worker takes a task and picks a manager by its
// kind; the manager does the persistent work (datastore writes, agent calls) and
// decides the result; handlers do pure computation for it. Managers never talk to the
// channel: the worker reports what they return.
import type { TaskDispatchMessage, TaskSpec } from '../schemas/index.js';

export interface WorkContext {
  task: TaskSpec;
  /** The fencing token: every write the manager makes carries it. */
  attempt: number;
  /** After this the broker has moved on; results would be stale. */
  deadlineAt: number;
  /** Aborted at the deadline or when the worker shuts down. */
  signal: AbortSignal;
  progress(percent: number, message?: string): Promise<void>;
}

export type AttemptOutcome =
  | { type: 'succeeded'; output: unknown }
  | { type: 'failed'; message: string; retriable: boolean }
  /** The manager chose not to answer (the probe's `hang`): the broker's deadline decides. */
  | { type: 'silent' };

export type RollbackOutcome = { type: 'succeeded' } | { type: 'failed'; message: string } | { type: 'silent' };

export interface RollbackContext extends Omit<WorkContext, 'attempt'> {
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
  expectedMs?(order: TaskDispatchMessage): number | undefined;
}

import type { Backoff } from '../../schemas/index.js';

/**
 * What a submission leaves out. Everything here except `expungeGraceMs` is copied into
 * the TaskSpec at submission, so changing a default never changes a task already accepted.
 */
export interface LifecycleDefaults {
  /** Whole-task timeout, counted from submission. */
  timeoutMs: number;
  /** Timeout of one attempt; null = only the task timeout applies. */
  attemptTimeoutMs: number | null;
  /** Longest silence allowed from a running worker; null = no heartbeat required. */
  heartbeatTimeoutMs: number | null;
  /** Attempts allowed before the task fails. */
  maxAttempts: number;
  retryBackoff: Backoff;
  /** Rollback attempts allowed before the rollback is left to an operator. */
  rollbackMaxAttempts: number;
  rollbackBackoff: Backoff;
  /** How long a terminal and consistent task stays in processor state before it is expunged. */
  expungeGraceMs: number;
}

export const defaultLifecycleDefaults: Readonly<LifecycleDefaults> = Object.freeze({
  timeoutMs: 300_000,
  attemptTimeoutMs: null,
  heartbeatTimeoutMs: null,
  // The seed's model: a task is tried once, then rolled back. Retries are opt-in per task.
  maxAttempts: 1,
  retryBackoff: Object.freeze({ initialMs: 1_000, multiplier: 2, maxMs: 60_000 }),
  // A rollback must eventually succeed for the system to be consistent, so it retries by default.
  rollbackMaxAttempts: 5,
  rollbackBackoff: Object.freeze({ initialMs: 1_000, multiplier: 2, maxMs: 60_000 }),
  expungeGraceMs: 3_600_000,
});

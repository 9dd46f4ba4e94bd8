import type {
  Origin,
  RunAttempt,
  RunRollback,
  TaskEventBodies,
  TaskRequestMessage,
  TaskResultMessage,
} from '../../schemas/index.js';
import type { LifecycleDefaults } from './defaults.js';
import type { KindRegistry } from './kinds.js';
import type { LifecycleLimits } from './limits.js';

/** One input of the decider: one Kafka record, or one timer firing. */
export type LifecycleInput =
  | { type: 'command'; message: TaskRequestMessage }
  | { type: 'result'; message: TaskResultMessage }
  /** The runtime's timer: now has reached nextDeadline(state). Duplicates and early ticks are harmless. */
  | { type: 'tick' };

/** An event body with its type: exactly the TaskEvent branches of the schema, without the envelope. */
export type LifecycleEvent = {
  [K in keyof TaskEventBodies]: { type: K; body: TaskEventBodies[K] };
}[keyof TaskEventBodies];

export type LifecycleEventType = LifecycleEvent['type'];

export type LifecycleEventOf<K extends LifecycleEventType> = Extract<LifecycleEvent, { type: K }>;

export interface DecideContext {
  /** The clock, injected: the decider never reads one. */
  now: number;
  kinds: KindRegistry;
  defaults: LifecycleDefaults;
  /** Sizes and reply topics the deployment allows; applied to every input. */
  limits: LifecycleLimits;
  /**
   * Set while the broker sheds new work, saying why (the request waited too long, too
   * many orders wait for a worker): a valid submission of a new task is then rejected
   * OVERLOADED instead of queueing work that could not start in time. Only new tasks:
   * duplicates, cancels and results are decided as always.
   */
  shedding?: string;
  /**
   * How long a rollback order is expected to wait for a worker now (the rollback queue's
   * length over the pace workers take them). Added to each rollback attempt's deadline, so
   * an order still queued is not timed out and sent again to the back of the queue.
   */
  rollbackQueueWaitMs?: number;
}

/** Something the adapter must write besides the event itself, in the same transaction. */
export type Effect =
  | { type: 'dispatch'; body: { type: 'RunAttempt'; body: RunAttempt } | { type: 'RunRollback'; body: RunRollback } }
  /** Report the outcome: the adapter forwards the event that produced this effect to the origin. */
  | { type: 'reply'; origin: Origin }
  /** Delete the task from processor state (changelog tombstone). */
  | { type: 'expunge' };

// The broker interface (the seed's TB Interface): what producers and operators need,
// the same whichever broker is deployed (`kafka` stream processors, or `custom`).
// Brokers manage tasks; they never execute them.
import type { Backoff, Origin } from '../../schemas/index.js';
import type { TaskView } from '../lifecycle/index.js';

export interface SubmitRequest {
  kind: string;
  action: string;
  /** Any JSON value; validated against the kind's schema by the decider. */
  payload: unknown;
  idempotencyKey?: string;
  origin?: Origin;
  timeoutMs?: number;
  attemptTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
  maxAttempts?: number;
  retryBackoff?: Backoff;
  rollbackMaxAttempts?: number;
  rollbackBackoff?: Backoff;
  correlationId?: string;
}

/** Where a request landed in the log; a reader that has reached it has seen its effects. */
export interface LogPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface Receipt {
  taskId: string;
  position: LogPosition;
}

export interface OperatorRequest {
  requestedBy?: string;
  reason?: string;
  correlationId?: string;
}

/** What producers and operators send: every broker accepts these the same way. */
export interface TaskCommands {
  submit(request: SubmitRequest): Promise<Receipt>;
  cancel(taskId: string, request?: OperatorRequest): Promise<Receipt>;
  retryRollback(taskId: string, request?: OperatorRequest): Promise<Receipt>;
  close(): Promise<void>;
}

export interface TaskBroker extends TaskCommands {
  /** The broker's own current view of a live task; null when it holds no such task (never submitted, or expunged). */
  get(taskId: string): Promise<TaskView | null>;
}

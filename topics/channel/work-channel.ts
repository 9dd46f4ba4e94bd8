// The message channel (the seed's MC) as workers see it: work orders arrive, results
// go back. Implementations are chosen by configuration (STACKL_CHANNEL): `kafka`
// (workers consume task.dispatch and task.rollbacks themselves) and, through a relay, others. Orders and
// results are the Avro records of schemas/; what a worker does with them is JSON.
import type { TaskDispatchMessage, TaskResultMessage } from '../../schemas/index.js';

export interface WorkDelivery {
  order: TaskDispatchMessage;
  /** Keeps the channel's own lease alive while long work runs (consumer session, queue lease). */
  keepAlive(): Promise<void>;
}

/**
 * Slots a worker keeps for rollback orders, beside the `concurrency` it gives run orders:
 * a quarter as many, at least two. Rollbacks are short and must finish; kept apart, they
 * go ahead however many run orders wait or hang.
 */
export function rollbackSlotsFor(concurrency: number): number {
  return Math.max(2, Math.ceil(concurrency / 4));
}

export interface WorkChannel {
  readonly name: string;
  /**
   * Starts delivering orders to `handle`: run orders at most `concurrency` at a time and,
   * beside them, rollback orders in rollbackSlotsFor(concurrency) slots of their own. A delivery
   * counts as done when `handle` settles; an order whose worker dies before that is
   * delivered again (duplicates are harmless: attempts are fenced).
   */
  consume(handle: (delivery: WorkDelivery) => Promise<void>, concurrency: number): Promise<void>;
  /** Sends a worker's result back to the broker. */
  report(result: TaskResultMessage): Promise<void>;
  /**
   * Starts no more orders; those started keep running and may still report. Resolves once
   * `handle` will not be called again, while the worker stays a member (its lease or group
   * membership held), so what it has not started goes to another worker once it closes.
   */
  stopTaking(): Promise<void>;
  /** Settles what was started, releases the orders not taken, and leaves. */
  close(): Promise<void>;
}

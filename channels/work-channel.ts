// The message channel (the seed's MC) as workers see it: work orders arrive, results
// go back. Implementations are chosen by configuration (STACKL_CHANNEL): `kafka`
// (workers consume task.dispatch and task.rollbacks themselves) and, through a relay, others. Orders and
// results are the Avro records of schemas/; what a worker does with them is JSON.
import { StacklError } from '../core/errors.js';
import type { TaskDispatchMessage, TaskResultMessage } from '../schemas/index.js';

/** The orders a worker runs. The envelope also carries DeliverOutcome, which is the notifier's. */
export type WorkOrder = Extract<TaskDispatchMessage, { type: 'RunAttempt' | 'RunRollback' }>;

/** A decoded order as a worker's order; anything else on a worker's topic is a record to dead-letter. */
export function asWorkOrder(order: TaskDispatchMessage): WorkOrder {
  if (order.type === 'RunAttempt' || order.type === 'RunRollback') return order;
  throw new StacklError('NOT_A_WORK_ORDER', `a ${order.type} order is not for workers`);
}

export interface WorkDelivery {
  order: WorkOrder;
  /** Keeps the channel's own lease alive while long work runs (consumer session, queue lease). */
  keepAlive(): Promise<void>;
}

/**
 * Slots a worker keeps for rollback orders, beside the `concurrency` it gives run orders:
 * four times as many. Rollbacks must finish, and kept apart they go ahead however many run
 * orders wait or hang. They mostly wait (for an agent's reply, for the datastore) and come
 * in bursts: right after a fault every task that timed out rolls back at once. With a
 * quarter as many slots as runs, stack rollbacks waiting on a slow or restarting agent held
 * every slot for tens of seconds while quick probe and document rollbacks queued behind
 * them until they expired (10-minute chaos run at 55 tasks/s: rollback results fell from
 * about 100 to 1–12 per 10 s for 90 s with 800 orders waiting; 455 tasks ended late).
 */
export const ROLLBACK_SLOTS_PER_RUN_SLOT = 4;

export function rollbackSlotsFor(concurrency: number): number {
  return Math.max(2, concurrency * ROLLBACK_SLOTS_PER_RUN_SLOT);
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

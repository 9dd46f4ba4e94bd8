// What the notifier does with one DeliverOutcome order, whichever log it came from (Kafka's
// task.notifications, or the custom broker's outbox): POST it until a 2xx answers, or give
// up after the last try, file it as a dead letter and have the broker record on the task
// that it never arrived. The transport says how to dead-letter and how to report.
import { StacklError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { NotifierSettings } from '../../core/webhook-config.js';
import { decode, taskDispatchSchema } from '../../schemas/index.js';
import { webhookProblem } from '../lifecycle/index.js';
import { deliver, type Delivery } from './delivery.js';

export type Settled = 'settled' | 'interrupted';

export interface NotifierStats {
  delivered: number;
  deadLettered: number;
  /** Tries that failed (each outcome may take several). */
  failedTries: number;
}

/** Where the notifier tells the broker an outcome never reached its webhook. */
export interface UndeliveredReports {
  reportUndelivered(taskId: string, report: { target: string; code: string; message: string; causationId: string }): Promise<unknown>;
}

export interface SettleHooks {
  settings: NotifierSettings;
  signal: AbortSignal;
  log: Logger;
  counters: NotifierStats;
  /** Files the order aside with why (and, for a webhook given up on, its target); false when stopping first. */
  deadLetter(error: unknown, target: string | undefined): Promise<boolean>;
  /** Has the broker record the give-up on the task; false when stopping first. */
  report(taskId: string, report: { target: string; code: string; message: string; causationId: string }): Promise<boolean>;
}

/** Delivers one order's outcome, or dead-letters it; 'interrupted' when stopping cut it short. */
export async function settleOutcome(value: Buffer | null, hooks: SettleHooks): Promise<Settled> {
  let delivery: Delivery;
  try {
    const order = await decode(value ?? Buffer.alloc(0), taskDispatchSchema);
    if (order.type !== 'DeliverOutcome') throw new StacklError('NOT_A_NOTIFICATION', `a ${order.type} order is not the notifier's`);
    delivery = { deliveryId: order.eventId, taskId: order.taskId, target: order.body.target, document: order.body.document };
  } catch (error) {
    return (await counted(hooks, hooks.deadLetter(error, undefined))) ? 'settled' : 'interrupted';
  }
  // Checked by the API and the broker at submission; the allow list may have narrowed since.
  const refused = webhookProblem(delivery.target, { webhookHosts: hooks.settings.hosts });
  if (refused !== null) return giveUp(delivery, new StacklError('WEBHOOK_HOST_NOT_ALLOWED', refused), hooks);
  const outcome = await deliver(delivery, hooks.settings, hooks.signal, (attempt, result) => {
    hooks.counters.failedTries += 1;
    hooks.log.info('webhook try failed', { taskId: delivery.taskId, deliveryId: delivery.deliveryId, attempt, result });
  });
  if ('interrupted' in outcome) return 'interrupted';
  if (outcome.delivered) {
    hooks.counters.delivered += 1;
    return 'settled';
  }
  return giveUp(delivery, new StacklError('WEBHOOK_UNDELIVERED', `POST to ${delivery.target} failed ${outcome.attempts} times; the last: ${outcome.last}`), hooks);
}

/** The outcome is dead-lettered, and the task's history says it never arrived. */
async function giveUp(delivery: Delivery, failure: StacklError, hooks: SettleHooks): Promise<Settled> {
  hooks.log.warn('webhook undelivered; dead-lettering the outcome', { taskId: delivery.taskId, deliveryId: delivery.deliveryId, target: delivery.target, code: failure.code, error: failure.message });
  if (!(await counted(hooks, hooks.deadLetter(failure, delivery.target)))) return 'interrupted';
  // After the dead letter: a report lost to a crash here is sent again with the outcome.
  const report = { target: delivery.target, code: failure.code, message: failure.message, causationId: delivery.deliveryId };
  return (await hooks.report(delivery.taskId, report)) ? 'settled' : 'interrupted';
}

async function counted(hooks: SettleHooks, filed: Promise<boolean>): Promise<boolean> {
  const done = await filed;
  if (done) hooks.counters.deadLettered += 1;
  return done;
}

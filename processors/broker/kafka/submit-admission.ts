// Load shedding at the broker. The API refuses submissions with 503 when too much work
// waits (api/admission.ts), but producers that write to task.requests directly never
// pass through it: under overload their tasks queued without bound, timed out in the
// work queue and were rolled back, and each rollback took a worker slot too. The broker
// therefore refuses a new task (TaskRejected OVERLOADED, replied to its origin) when
//   - its request waited in task.requests longer than maxRequestAgeMs (measured from the
//     record's timestamp: the broker itself is behind), or
//   - the orders no worker has taken yet (run orders, or rollback orders) would take
//     longer than maxOrderWaitMs to drain at the pace workers took them in the last
//     seconds, or run orders reach maxQueuedOrders (the same reading of Kafka the API
//     sheds on), so work that could not start in time is not queued. The wait is what
//     matters: a count of orders is seconds on a fast day and minutes when faults slow
//     the workers down. A task's own timeout caps the wait it is allowed: no more than
//     a quarter of it (ORDER_WAIT_SHARE_OF_TIMEOUT).
// Cancels, results and duplicates are never shed: they end or reduce work.
import { ConfigError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import { ordersWaitBeyond, type BacklogMonitor } from '../../../topics/backlog.js';

export interface SubmitSheddingOptions {
  /** 0 turns the check off. */
  maxRequestAgeMs: number;
  /** 0 turns the check off. */
  maxQueuedOrders: number;
  /** 0 turns the check off; keep it well below your tasks' timeouts. */
  maxOrderWaitMs: number;
  /** How often the orders waiting are read from Kafka. */
  backlogPollMs: number;
}

/**
 * The wait decides; the count is a ceiling for when no pace is measured yet (the first
 * seconds of a burst). It is higher than the API's: producers writing to Kafka directly
 * are often batch jobs, and a burst that fast workers drain in seconds is no overload.
 */
export const DEFAULT_SUBMIT_SHEDDING: SubmitSheddingOptions = { maxRequestAgeMs: 60_000, maxQueuedOrders: 10_000, maxOrderWaitMs: 30_000, backlogPollMs: 1_000 };

/**
 * The share of a task's timeout its order may be expected to wait. A fault on top of the
 * wait (a worker lost, Kafka restarting) costs tens of seconds more; a task that waited
 * half its time before that times out, and its rollback takes a slot of its own. In the
 * 10-minute chaos run at 55 tasks/s, orders waited 30-45 s for tasks of 60 s, and half
 * of the tasks taken ended rolled back.
 */
export const ORDER_WAIT_SHARE_OF_TIMEOUT = 0.25;

/**
 * The most a rollback attempt's deadline is lengthened for its expected wait in the
 * queue: past it, a rollback stuck on a dead worker would be noticed too late.
 */
export const MAX_ROLLBACK_QUEUE_WAIT_MS = 120_000;

/** How often a shedding broker says so in its log, with the count since the last line. */
const REPORT_EVERY_MS = 10_000;

export class SubmitAdmission {
  /** New tasks refused, by reason, since start. */
  readonly shed = { requestAge: 0, orderWait: 0, orders: 0 };
  private unreported = 0;
  private reportedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: SubmitSheddingOptions,
    private readonly backlog: Pick<BacklogMonitor, 'state'> | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * Why a new task requested at `requestedAt`, of `timeoutMs`, should be refused now, or
   * undefined to take it. A timestamp in the future (a producer's clock ahead) counts as
   * no wait.
   */
  verdict(requestedAt: number, now: number, timeoutMs: number): string | undefined {
    const reason = this.reason(requestedAt, now, timeoutMs);
    if (reason !== undefined) this.report(reason, now);
    return reason;
  }

  private reason(requestedAt: number, now: number, timeoutMs: number): string | undefined {
    const waited = Number.isFinite(requestedAt) ? now - requestedAt : 0;
    if (this.options.maxRequestAgeMs > 0 && waited > this.options.maxRequestAgeMs) {
      this.shed.requestAge += 1;
      return `the request waited ${waited} ms for the broker (limit ${this.options.maxRequestAgeMs} ms)`;
    }
    if (this.backlog === undefined) return undefined;
    // A stale reading (Kafka's admin not answering) is no reason to refuse: this broker
    // is reading its input, so only a fresh reading of waiting orders decides.
    const state = this.backlog.state();
    const orders = state.fresh ? state.estimate?.orders : undefined;
    if (orders === undefined) return undefined;
    const { maxOrderWaitMs, maxQueuedOrders } = this.options;
    const slow = ordersWaitBeyond(state, maxOrderWaitMs === 0 ? 0 : Math.max(1, Math.min(maxOrderWaitMs, Math.floor(timeoutMs * ORDER_WAIT_SHARE_OF_TIMEOUT))));
    if (slow !== undefined) {
      this.shed.orderWait += 1;
      return slow.text;
    }
    if (maxQueuedOrders === 0 || orders < maxQueuedOrders) return undefined;
    this.shed.orders += 1;
    return `${orders} orders wait for a worker (limit ${maxQueuedOrders})`;
  }

  /**
   * The wait a rollback order can expect in the queue now, for its deadline: 0 until a
   * backed-up rollback queue has a measured pace, never more than MAX_ROLLBACK_QUEUE_WAIT_MS.
   */
  rollbackQueueWaitMs(): number {
    const state = this.backlog?.state();
    const wait = state?.fresh === true ? state.rollbackDrain?.ordersWaitMs : undefined;
    return wait === undefined ? 0 : Math.min(wait, MAX_ROLLBACK_QUEUE_WAIT_MS);
  }

  private report(reason: string, now: number): void {
    this.unreported += 1;
    if (now - this.reportedAt < REPORT_EVERY_MS) return;
    this.log.warn('shedding new tasks (TaskRejected OVERLOADED)', { refused: this.unreported, latest: reason, since: { ...this.shed } });
    this.unreported = 0;
    this.reportedAt = now;
  }
}

/**
 * STACKL_BROKER_MAX_REQUEST_AGE_MS, STACKL_BROKER_MAX_ORDER_WAIT_MS,
 * STACKL_BROKER_MAX_QUEUED_ORDERS (0 turns each off) and STACKL_BROKER_BACKLOG_POLL_MS,
 * over the defaults.
 */
export function submitSheddingFromEnv(env: Record<string, string | undefined> = process.env): SubmitSheddingOptions {
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min) throw new ConfigError(`${name} must be a whole number ≥ ${min}${min === 0 ? ' (0 turns the check off)' : ''}, got "${raw}"`);
    return value;
  };
  const d = DEFAULT_SUBMIT_SHEDDING;
  return {
    maxRequestAgeMs: int('STACKL_BROKER_MAX_REQUEST_AGE_MS', d.maxRequestAgeMs, 0),
    maxQueuedOrders: int('STACKL_BROKER_MAX_QUEUED_ORDERS', d.maxQueuedOrders, 0),
    maxOrderWaitMs: int('STACKL_BROKER_MAX_ORDER_WAIT_MS', d.maxOrderWaitMs, 0),
    backlogPollMs: int('STACKL_BROKER_BACKLOG_POLL_MS', d.backlogPollMs, 100),
  };
}

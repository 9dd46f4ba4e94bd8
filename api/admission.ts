// Load shedding: every command (submit, cancel, retry-rollback) passes here on its way
// to task.requests. It is refused at once with 503 OVERLOADED and Retry-After, instead
// of queueing without end, when
//   - the API already waits for Kafka's acknowledgement of maxPendingSubmits commands;
//   - Kafka is unavailable: a produce failed or timed out in the last Retry-After
//     seconds, or the backlog has not been readable for a while;
//   - (submissions only) requests the broker has not processed, or orders no worker has
//     taken, exceed their bound, or those orders would take longer than maxOrderWaitMs
//     to drain at the pace workers take them. Cancel and retry-rollback still pass:
//     they reduce work.
// A produce that outlives submitTimeoutMs is answered 503 while it goes on; it still
// counts as pending until Kafka answers, so the bound holds for what really is in flight.
import { isStacklError, StacklError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { ordersWaitBeyond, type BacklogMonitor, type BacklogState } from '../topics/backlog.js';
import type { ApiOptions } from './options.js';

export type ShedReason = 'pending' | 'kafka' | 'requests' | 'orders';
export type CommandKind = 'submit' | 'operate';

type AdmissionOptions = Pick<ApiOptions, 'maxPendingSubmits' | 'submitTimeoutMs' | 'maxBacklog' | 'maxQueuedOrders' | 'retryAfterSeconds'> & Partial<Pick<ApiOptions, 'maxOrderWaitMs'>>;

export interface SubmitReadiness {
  ready: boolean;
  /** Why submissions would be refused now. */
  reasons: string[];
  pending: number;
  backlog?: { requests: number; orders: number; maxBacklog: number; maxQueuedOrders: number; ageMs: number };
}

export class Admission {
  private pending = 0;
  private kafkaFailedAt = Number.NEGATIVE_INFINITY;
  private kafkaFailure = '';
  readonly shed: Record<ShedReason, number> = { pending: 0, kafka: 0, requests: 0, orders: 0 };

  constructor(
    private readonly options: AdmissionOptions,
    private readonly backlog: BacklogMonitor | undefined,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  get inFlight(): number {
    return this.pending;
  }

  /** Sends one command unless the API is overloaded; Kafka's failures become 503 OVERLOADED. */
  async send<T>(kind: CommandKind, produce: () => Promise<T>): Promise<T> {
    const refusal = this.refusal(kind);
    if (refusal !== undefined) {
      this.shed[refusal.reason] += 1;
      throw overloaded(refusal.reason, refusal.detail, this.options.retryAfterSeconds, refusal.extra);
    }
    this.pending += 1;
    const sending = produce().finally(() => {
      this.pending -= 1;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new SubmitTimeout(this.options.submitTimeoutMs)), this.options.submitTimeoutMs);
    });
    try {
      const result = await Promise.race([sending, timeout]);
      this.backlog?.noteAccepted();
      return result;
    } catch (error) {
      // Our own refusals (an id that is not a UUID) are the client's problem, not Kafka's.
      if (isStacklError(error)) throw error;
      if (!(error instanceof SubmitTimeout) && !isKafkaError(error)) throw error;
      // The caller has its answer; a late rejection of the produce must not go unheard.
      sending.catch(() => {});
      const now = this.clock();
      // A batch of commands fails together: one line for the lot, not one per command.
      if (now - this.kafkaFailedAt >= this.options.retryAfterSeconds * 1000) {
        this.log.warn('Kafka did not take a command; shedding commands for a while', { error: error instanceof Error ? error.message : String(error), retryAfterSeconds: this.options.retryAfterSeconds });
      }
      this.kafkaFailedAt = now;
      this.kafkaFailure = error instanceof SubmitTimeout ? error.message : kafkaErrorType(error);
      this.shed.kafka += 1;
      const detail = error instanceof SubmitTimeout
        ? `Kafka did not acknowledge the command within ${this.options.submitTimeoutMs} ms; it may still land: send it again with the same idempotencyKey`
        : 'Kafka did not take the command; retry later';
      throw overloaded('kafka', detail, this.options.retryAfterSeconds, { kafkaError: this.kafkaFailure, ...(error instanceof SubmitTimeout ? { outcome: 'unknown' } : {}) });
    } finally {
      clearTimeout(timer);
    }
  }

  /** What /readyz/submit reports: would a submission be admitted now? */
  readiness(): SubmitReadiness {
    const reasons: string[] = [];
    for (const reason of ['pending', 'kafka', 'requests', 'orders'] as const) {
      const refusal = this.check(reason, 'submit');
      if (refusal !== undefined) reasons.push(refusal.detail);
    }
    const state = this.backlog?.state();
    const backlog = state?.estimate === undefined ? {} : {
      backlog: { ...state.estimate, maxBacklog: this.options.maxBacklog, maxQueuedOrders: this.options.maxQueuedOrders, ageMs: state.ageMs ?? 0 },
    };
    return { ready: reasons.length === 0, reasons, pending: this.pending, ...backlog };
  }

  private refusal(kind: CommandKind): Refusal | undefined {
    for (const reason of ['pending', 'kafka', 'requests', 'orders'] as const) {
      const refusal = this.check(reason, kind);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }

  private check(reason: ShedReason, kind: CommandKind): Refusal | undefined {
    const state: BacklogState | undefined = this.backlog?.state();
    switch (reason) {
      case 'pending':
        return this.pending >= this.options.maxPendingSubmits
          ? { reason, detail: `the API already waits for Kafka to acknowledge ${this.pending} commands (limit ${this.options.maxPendingSubmits})`, extra: { pending: this.pending } }
          : undefined;
      case 'kafka': {
        const sinceFailure = this.clock() - this.kafkaFailedAt;
        if (sinceFailure < this.options.retryAfterSeconds * 1000) {
          return { reason, detail: `Kafka did not take a command ${Math.round(sinceFailure)} ms ago (${this.kafkaFailure})`, extra: { kafkaError: this.kafkaFailure } };
        }
        if (state !== undefined && !state.fresh) {
          return { reason, detail: `Kafka has not answered the backlog reading for ${state.ageMs ?? 'some'} ms${state.error === undefined ? '' : ` (${state.error})`}`, extra: {} };
        }
        return undefined;
      }
      case 'requests': {
        const requests = state?.fresh === true ? state.estimate?.requests : undefined;
        if (kind !== 'submit' || this.options.maxBacklog === 0 || requests === undefined || requests < this.options.maxBacklog) return undefined;
        return { reason, detail: `${requests} requests wait for the broker (limit ${this.options.maxBacklog})`, extra: { backlog: requests, maxBacklog: this.options.maxBacklog } };
      }
      case 'orders': {
        const orders = state?.fresh === true ? state.estimate?.orders : undefined;
        const slow = kind === 'submit' && state !== undefined ? ordersWaitBeyond(state, this.options.maxOrderWaitMs ?? 0) : undefined;
        if (slow !== undefined) {
          return { reason, detail: slow.text, extra: { queue: slow.queue, queuedOrders: slow.orders, ordersPerSecond: Number(slow.ordersPerSecond.toFixed(1)), maxOrderWaitMs: this.options.maxOrderWaitMs } };
        }
        if (kind !== 'submit' || this.options.maxQueuedOrders === 0 || orders === undefined || orders < this.options.maxQueuedOrders) return undefined;
        return { reason, detail: `${orders} orders wait for a worker (limit ${this.options.maxQueuedOrders})`, extra: { queuedOrders: orders, maxQueuedOrders: this.options.maxQueuedOrders } };
      }
    }
  }
}

interface Refusal {
  reason: ShedReason;
  detail: string;
  extra: Record<string, unknown>;
}

class SubmitTimeout extends Error {
  constructor(ms: number) {
    super(`no acknowledgement within ${ms} ms`);
  }
}

function overloaded(reason: ShedReason, detail: string, retryAfterSeconds: number, extra: Record<string, unknown>): StacklError {
  return new StacklError('OVERLOADED', `${detail}; retry after ${retryAfterSeconds} s`, { httpStatus: 503, retriable: true, details: { reason, retryAfterSeconds, ...extra } });
}

export function isKafkaError(error: unknown): boolean {
  return error instanceof Error && error.name.startsWith('KafkaJS');
}

/** The broker's error code (NOT_ENOUGH_REPLICAS…) when one is in the chain, else the kafkajs error name: never an address. */
function kafkaErrorType(error: unknown): string {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    const { type, cause, errors } = e as { type?: unknown; cause?: unknown; errors?: unknown };
    if (typeof type === 'string' && type !== 'UNKNOWN') return type;
    // kafkajs wraps the broker's answer in its retry error (cause) or aggregates one per broker (errors).
    e = cause ?? (Array.isArray(errors) ? errors[0] : undefined);
  }
  return error instanceof Error ? error.name : 'unknown';
}

// The worker: takes work orders from the channel, picks the manager of the task's
// kind, reports AttemptStarted, heartbeats while the manager runs, and reports the
// outcome. Stateless: any number run in parallel; the broker fences stale attempts.
import { DEFAULT_MAX_OUTPUT_BYTES } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { checkJsonValue } from '../processors/lifecycle/index.js';
import { randomUUID } from 'node:crypto';
import type { RunAttempt, RunRollback, TaskResultMessage } from '../schemas/index.js';
import type { WorkChannel, WorkDelivery } from '../topics/channel/work-channel.js';
import type { AttemptOutcome, Manager, RollbackOutcome } from './manager.js';

export interface WorkerOptions {
  channel: WorkChannel;
  managers: ReadonlyMap<string, Manager>;
  concurrency: number;
  workerId?: string;
  clock?: () => number;
  /** Runs once the channel has closed: releases what the managers hold (e.g. a database pool). */
  onStop?: () => Promise<void>;
  /** Largest output reported as a success (STACKL_MAX_OUTPUT_BYTES); a larger one fails the attempt. */
  maxOutputBytes?: number;
}

export interface WorkerStats {
  attempts: number;
  rollbacks: number;
  succeeded: number;
  failed: number;
  inFlight: number;
}

export class Worker {
  readonly workerId: string;
  private readonly log;
  private readonly clock: () => number;
  private readonly shutdown = new AbortController();
  private readonly counters: WorkerStats = { attempts: 0, rollbacks: 0, succeeded: 0, failed: 0, inFlight: 0 };

  constructor(private readonly options: WorkerOptions) {
    this.workerId = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.clock = options.clock ?? Date.now;
    this.log = createLogger({ component: 'worker', workerId: this.workerId });
  }

  start(): Promise<void> {
    return this.options.channel.consume((delivery) => this.handle(delivery), this.options.concurrency);
  }

  /** Stops taking work; in-flight orders finish (or abort at their deadline) before the channel closes. */
  async stop(): Promise<void> {
    this.shutdown.abort();
    try {
      await this.options.channel.close();
    } finally {
      await this.options.onStop?.();
    }
  }

  stats(): WorkerStats {
    return { ...this.counters };
  }

  private async handle({ order, keepAlive }: WorkDelivery): Promise<void> {
    const { task, deadlineAt } = order.body;
    if (deadlineAt <= this.clock()) return; // the broker has already moved on
    const manager = this.options.managers.get(task.kind);
    if (manager === undefined) {
      this.log.warn('no manager for this kind; leaving the order to its deadline', { kind: task.kind, taskId: task.id });
      return;
    }
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(Math.max(0, deadlineAt - this.clock()))]);
    const keepAliveTimer = setInterval(() => void keepAlive().catch(() => {}), 3_000);
    this.counters.inFlight += 1;
    try {
      if (order.type === 'RunAttempt') await this.runAttempt(manager, order.body, signal);
      else await this.runRollback(manager, order.body, signal);
    } catch (error) {
      // An aborted or crashed manager reports nothing: the broker's deadline decides.
      this.log.warn('work ended without a result', { taskId: task.id, type: order.type, error });
    } finally {
      clearInterval(keepAliveTimer);
      this.counters.inFlight -= 1;
    }
  }

  private async runAttempt(manager: Manager, order: RunAttempt, signal: AbortSignal): Promise<void> {
    const { task, attempt } = order;
    this.counters.attempts += 1;
    await this.report(task.id, { type: 'AttemptStarted', body: { attempt, workerId: this.workerId } });
    const heartbeat = this.heartbeat(task.id, attempt, task.heartbeatTimeoutMs);
    let outcome: AttemptOutcome;
    try {
      outcome = await manager.run({
        task,
        attempt,
        deadlineAt: order.deadlineAt,
        signal,
        progress: (percent, message) => this.report(task.id, { type: 'AttemptProgress', body: { attempt, workerId: this.workerId, percent, message: message ?? null } }),
      });
    } catch (error) {
      if (signal.aborted) throw error;
      outcome = { type: 'failed', message: error instanceof Error ? error.message : String(error), retriable: true };
    } finally {
      clearInterval(heartbeat);
    }
    if (outcome.type === 'succeeded') {
      // An output the broker could not keep (too large, too deep, not storable) fails the
      // attempt here, saying why, rather than as a record too large for task.results.
      const output = checkJsonValue(outcome.output ?? null, this.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
      if (output.ok) {
        this.counters.succeeded += 1;
        await this.report(task.id, { type: 'AttemptSucceeded', body: { attempt, workerId: this.workerId, output: output.text ?? 'null' } });
        return;
      }
      this.counters.failed += 1;
      this.log.warn('the manager returned an output the broker cannot keep; failing the attempt', { taskId: task.id, kind: task.kind, problem: output.problem.message });
      await this.report(task.id, { type: 'AttemptFailed', body: { attempt, workerId: this.workerId, message: `the output of ${task.kind}/${task.action} ${output.problem.message} (STACKL_MAX_OUTPUT_BYTES)`, retriable: false } });
    } else if (outcome.type === 'failed') {
      this.counters.failed += 1;
      await this.report(task.id, { type: 'AttemptFailed', body: { attempt, workerId: this.workerId, message: outcome.message, retriable: outcome.retriable } });
    }
  }

  private async runRollback(manager: Manager, order: RunRollback, signal: AbortSignal): Promise<void> {
    const { task, rollbackAttempt, failedAttempt } = order;
    this.counters.rollbacks += 1;
    let outcome: RollbackOutcome;
    try {
      outcome = await manager.rollback({ task, rollbackAttempt, failedAttempt, deadlineAt: order.deadlineAt, signal, progress: async () => {} });
    } catch (error) {
      if (signal.aborted) throw error;
      outcome = { type: 'failed', message: error instanceof Error ? error.message : String(error) };
    }
    if (outcome.type === 'succeeded') await this.report(task.id, { type: 'RollbackSucceeded', body: { rollbackAttempt, workerId: this.workerId } });
    if (outcome.type === 'failed') await this.report(task.id, { type: 'RollbackFailed', body: { rollbackAttempt, workerId: this.workerId, message: outcome.message } });
  }

  /** Heartbeats at a third of the task's heartbeat timeout, so one lost heartbeat is survivable. */
  private heartbeat(taskId: string, attempt: number, timeoutMs: number | null): NodeJS.Timeout | undefined {
    if (timeoutMs === null) return undefined;
    return setInterval(() => {
      void this.report(taskId, { type: 'AttemptHeartbeat', body: { attempt, workerId: this.workerId } }).catch((error: unknown) => this.log.warn('heartbeat failed', { taskId, error }));
    }, Math.max(50, Math.floor(timeoutMs / 3)));
  }

  private report(taskId: string, result: Pick<TaskResultMessage, 'type' | 'body'>): Promise<void> {
    const message = { eventId: randomUUID(), taskId, sequence: 0, time: this.clock(), causationId: null, correlationId: null, ...result } as TaskResultMessage;
    return this.options.channel.report(message);
  }
}

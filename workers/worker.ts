// The worker: takes work orders from the channel, picks the manager of the task's
// kind, reports AttemptStarted (at once, or lazily for managers that say when they
// first change something), heartbeats while the manager runs, and reports the outcome.
// Stateless: any number run in parallel; the broker fences stale attempts.
import { traceIdOf } from '../core/trace-context.js';
import { workerMetrics } from './worker-metrics.js';
import { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_SHUTDOWN_GRACE_MS } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { checkJsonValue } from '../processors/lifecycle/index.js';
import { randomUUID } from 'node:crypto';
import type { RunAttempt, RunRollback, TaskResultMessage } from '../schemas/index.js';
import type { WorkChannel, WorkDelivery } from '../channels/work-channel.js';
import { DurationEstimates, durationKey } from './duration-estimates.js';
import type { AttemptOutcome, Manager, RollbackOutcome } from './manager.js';
import { settledWithin } from './settled-within.js';

/**
 * How long an attempt of a lazily-reporting manager runs before its start is reported
 * anyway, so a long attempt shows InProgress while a quick one costs no extra record.
 */
export const DEFAULT_START_REPORT_AFTER_MS = 1_000;

const ABANDONED = 'the worker stopped before this work finished (its shutdown grace, STACKL_SHUTDOWN_GRACE_MS, ran out)';

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
  /** How long stop() lets work in flight finish before abandoning it (STACKL_SHUTDOWN_GRACE_MS). */
  shutdownGraceMs?: number;
  /** DEFAULT_START_REPORT_AFTER_MS unless set (tests set 0 to see every start). */
  startReportAfterMs?: number;
}

export interface WorkerStats {
  attempts: number;
  rollbacks: number;
  succeeded: number;
  failed: number;
  inFlight: number;
  /** Orders not started because their deadline passed, or would before the work could finish. */
  skipped: number;
  /** Work still running when the shutdown grace ended, reported as failed so the broker retries at once. */
  abandoned: number;
  /** Orders of kinds this worker does not serve, passed over (another pool's). */
  notServed: number;
}

export class Worker {
  readonly workerId: string;
  private readonly log;
  private readonly clock: () => number;
  private readonly shutdown = new AbortController();
  private readonly counters: WorkerStats = { attempts: 0, rollbacks: 0, succeeded: 0, failed: 0, inFlight: 0, skipped: 0, abandoned: 0, notServed: 0 };
  private readonly running = new Set<Promise<void>>();
  /**
   * Each task's correlation id while its orders run: its results carry it back. A list per task,
   * as a redelivered older order may run beside the newer one and end first.
   */
  private readonly correlations = new Map<string, { correlationId: string | null; owner: AbortController }[]>();
  private readonly durations = new DurationEstimates();
  /** Attempts running here, by task: a rollback order of the same task aborts its attempt first. */
  private readonly attemptsHere = new Map<string, { cancel: AbortController; done: Promise<void> }>();
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.workerId = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.clock = options.clock ?? Date.now;
    this.log = createLogger({ component: 'worker', workerId: this.workerId });
  }

  start(): Promise<void> {
    return this.options.channel.consume((delivery) => {
      const work = this.handle(delivery);
      this.running.add(work);
      return work.finally(() => this.running.delete(work));
    }, this.options.concurrency);
  }

  /**
   * Stops taking orders, lets the work in flight finish and report within the grace, then
   * leaves the channel. Aborting at once, as before, left every attempt in flight to wait
   * out its timeout after each deploy.
   */
  stop(): Promise<void> {
    this.stopped ??= this.drainAndClose();
    return this.stopped;
  }

  private async drainAndClose(): Promise<void> {
    try {
      await this.options.channel.stopTaking();
      const graceMs = this.options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
      if (this.running.size > 0) this.log.info('stopping: letting the work in flight finish', { inFlight: this.running.size, graceMs });
      if (!(await settledWithin(this.running, graceMs))) {
        this.log.warn('shutdown grace over: abandoning the work still running, reported as failed', { abandoned: this.running.size, graceMs });
        this.shutdown.abort();
        await Promise.allSettled([...this.running]);
      }
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
    // Logged with every line about the task, so one id follows it across roles (core/trace-context.ts).
    const traceId = traceIdOf(order.correlationId);
    const about = { taskId: task.id, ...(traceId === undefined ? {} : { traceId }) };
    const manager = this.options.managers.get(task.kind);
    if (manager === undefined) {
      // Every pool sees every order (docs/worker-protocol.md, Pools): another pool serves this kind.
      this.counters.notServed += 1;
      workerMetrics.notServed.inc();
      return;
    }
    if (deadlineAt <= this.clock()) {
      // The broker has already moved on; under a backlog these are many, so no line each.
      this.counters.skipped += 1;
      workerMetrics.skipped.inc();
      return;
    }
    // Started, the work would only be abandoned at its deadline, holding a slot (and, on a
    // backlog, making the orders behind it late too); the broker's timeout decides instead.
    const neededMs = manager.expectedMs?.(order) ?? this.durations.shortest(durationKey(order));
    if (neededMs !== undefined && deadlineAt - this.clock() < neededMs) {
      this.counters.skipped += 1;
      workerMetrics.skipped.inc();
      this.log.info('not starting an order that cannot finish before its deadline', { ...about, type: order.type, leftMs: deadlineAt - this.clock(), neededMs });
      return;
    }
    // A rollback of a task whose attempt still runs here means the broker gave up on that
    // attempt (cancelled, timed out): stop it, and undo only once it stopped changing things.
    if (order.type === 'RunRollback') await this.abortAttempt(task.id);
    const cancel = new AbortController();
    const signal = AbortSignal.any([this.shutdown.signal, cancel.signal, AbortSignal.timeout(Math.max(0, deadlineAt - this.clock()))]);
    const began = this.clock();
    const keepAliveTimer = setInterval(() => void keepAlive().catch(() => {}), 3_000);
    this.counters.inFlight += 1;
    workerMetrics.inFlight.inc();
    this.correlations.set(task.id, [...(this.correlations.get(task.id) ?? []), { correlationId: order.correlationId, owner: cancel }]);
    this.log.debug('work started', { ...about, type: order.type, kind: task.kind });
    let outcome = 'none';
    let attemptDone: (() => void) | undefined;
    if (order.type === 'RunAttempt') this.attemptsHere.set(task.id, { cancel, done: new Promise<void>((resolve) => (attemptDone = resolve)) });
    try {
      const finished = order.type === 'RunAttempt' ? await this.runAttempt(manager, order.body, signal) : await this.runRollback(manager, order.body, signal);
      outcome = finished ? 'succeeded' : 'failed';
      if (finished) this.durations.record(durationKey(order), this.clock() - began);
    } catch (error) {
      // An aborted or crashed manager reports nothing: the broker's deadline decides.
      if (cancel.signal.aborted) this.log.info('attempt stopped: the broker is rolling its task back', { ...about });
      else this.log.warn('work ended without a result', { ...about, type: order.type, error });
    } finally {
      if (attemptDone !== undefined) {
        if (this.attemptsHere.get(task.id)?.cancel === cancel) this.attemptsHere.delete(task.id);
        attemptDone();
      }
      clearInterval(keepAliveTimer);
      this.counters.inFlight -= 1;
      const others = (this.correlations.get(task.id) ?? []).filter((entry) => entry.owner !== cancel);
      if (others.length === 0) this.correlations.delete(task.id);
      else this.correlations.set(task.id, others);
      workerMetrics.inFlight.dec();
      workerMetrics.workSeconds.observe({ kind: task.kind, order: order.type === 'RunAttempt' ? 'attempt' : 'rollback', outcome }, (this.clock() - began) / 1000);
    }
  }

  /** Aborts the attempt of `taskId` running in this worker, if any, and waits until it ended. */
  private async abortAttempt(taskId: string): Promise<void> {
    const running = this.attemptsHere.get(taskId);
    if (running === undefined) return;
    running.cancel.abort(new Error('the broker is rolling this task back (cancelled or timed out)'));
    await running.done;
  }

  /** True when the work succeeded (its duration then teaches the estimates). */
  private async runAttempt(manager: Manager, order: RunAttempt, signal: AbortSignal): Promise<boolean> {
    const { task, attempt } = order;
    this.counters.attempts += 1;
    let started: Promise<void> | undefined;
    const reportStart = (): Promise<void> => (started ??= this.report(task.id, { type: 'AttemptStarted', body: { attempt, workerId: this.workerId } }));
    // A heartbeat deadline counts from the start the broker sees, so those report at once.
    const lazy = manager.startReport === 'before-change' && task.heartbeatTimeoutMs === null;
    if (!lazy) await reportStart();
    const startTimer = lazy
      ? setTimeout(() => void reportStart().catch((error: unknown) => this.log.warn('start report failed; the result will carry the start', { taskId: task.id, error })), this.options.startReportAfterMs ?? DEFAULT_START_REPORT_AFTER_MS)
      : undefined;
    const heartbeat = this.heartbeat(task.id, attempt, task.heartbeatTimeoutMs);
    let outcome: AttemptOutcome;
    try {
      outcome = await manager.run({
        task,
        attempt,
        deadlineAt: order.deadlineAt,
        signal,
        progress: (percent, message) => this.report(task.id, { type: 'AttemptProgress', body: { attempt, workerId: this.workerId, percent, message: message ?? null } }),
        heartbeat: () => this.report(task.id, { type: 'AttemptHeartbeat', body: { attempt, workerId: this.workerId } }),
        beforeChange: reportStart,
      });
    } catch (error) {
      if (this.abandoned(signal)) outcome = { type: 'failed', message: ABANDONED, retriable: true };
      else if (signal.aborted) throw error;
      else outcome = { type: 'failed', message: error instanceof Error ? error.message : String(error), retriable: true };
    } finally {
      clearTimeout(startTimer);
      clearInterval(heartbeat);
    }
    // A start report in flight goes out before the result (same key, sent in order); one
    // that failed is carried by the result, which the broker records as the start too.
    await started?.catch(() => undefined);
    if (outcome.type === 'succeeded') {
      // An output the broker could not keep (too large, too deep, not storable) fails the
      // attempt here, saying why, rather than as a record too large for task.results.
      const output = checkJsonValue(outcome.output ?? null, this.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
      if (output.ok) {
        this.counters.succeeded += 1;
        await this.report(task.id, { type: 'AttemptSucceeded', body: { attempt, workerId: this.workerId, output: output.text ?? 'null' } });
        return true;
      }
      this.counters.failed += 1;
      this.log.warn('the manager returned an output the broker cannot keep; failing the attempt', { taskId: task.id, kind: task.kind, problem: output.problem.message });
      await this.report(task.id, { type: 'AttemptFailed', body: { attempt, workerId: this.workerId, message: `the output of ${task.kind}/${task.action} ${output.problem.message} (STACKL_MAX_OUTPUT_BYTES)`, retriable: false } });
    } else if (outcome.type === 'failed') {
      this.counters.failed += 1;
      await this.report(task.id, { type: 'AttemptFailed', body: { attempt, workerId: this.workerId, message: outcome.message, retriable: outcome.retriable } });
    }
    return false;
  }

  private async runRollback(manager: Manager, order: RunRollback, signal: AbortSignal): Promise<boolean> {
    const { task, rollbackAttempt, failedAttempt } = order;
    this.counters.rollbacks += 1;
    let outcome: RollbackOutcome;
    try {
      outcome = await manager.rollback({ task, rollbackAttempt, failedAttempt, deadlineAt: order.deadlineAt, signal, progress: async () => {} });
    } catch (error) {
      if (this.abandoned(signal)) outcome = { type: 'failed', message: ABANDONED };
      else if (signal.aborted) throw error;
      else outcome = { type: 'failed', message: error instanceof Error ? error.message : String(error) };
    }
    if (outcome.type === 'succeeded') await this.report(task.id, { type: 'RollbackSucceeded', body: { rollbackAttempt, workerId: this.workerId } });
    if (outcome.type === 'failed') await this.report(task.id, { type: 'RollbackFailed', body: { rollbackAttempt, workerId: this.workerId, message: outcome.message } });
    return outcome.type === 'succeeded';
  }

  /**
   * Work cut short by the end of the shutdown grace, not by its deadline: reported as a
   * failure, so the broker retries (or rolls back) now instead of at the deadline.
   */
  private abandoned(signal: AbortSignal): boolean {
    if (!(signal.aborted && this.shutdown.signal.aborted)) return false;
    this.counters.abandoned += 1;
    return true;
  }

  /** Heartbeats at a third of the task's heartbeat timeout, so one lost heartbeat is survivable. */
  private heartbeat(taskId: string, attempt: number, timeoutMs: number | null): NodeJS.Timeout | undefined {
    if (timeoutMs === null) return undefined;
    return setInterval(() => {
      workerMetrics.heartbeats.inc();
      void this.report(taskId, { type: 'AttemptHeartbeat', body: { attempt, workerId: this.workerId } }).catch((error: unknown) => this.log.warn('heartbeat failed', { taskId, error }));
    }, Math.max(50, Math.floor(timeoutMs / 3)));
  }

  private report(taskId: string, result: Pick<TaskResultMessage, 'type' | 'body'>): Promise<void> {
    // The order's correlation (a traceparent from the submitter, say) goes on with the result.
    const message = { eventId: randomUUID(), taskId, sequence: 0, time: this.clock(), causationId: null, correlationId: this.correlations.get(taskId)?.at(-1)?.correlationId ?? null, ...result } as TaskResultMessage;
    return this.options.channel.report(message);
  }
}

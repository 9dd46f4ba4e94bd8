// A kind's handlers as plain async functions: `implement(kind, { run, rollback })` gives
// the worker the manager it runs. The payload arrives parsed by the kind's own schema;
// what `run` returns is the task's output; what it throws fails the attempt (TaskFailure
// says whether a retry may help). Built-in and users' kinds are written the same way.
import { createLogger, type Logger } from '../core/log.js';
import { payloadSchemaFor, type NamedKind } from '../processors/lifecycle/index.js';
import type { WorkOrder } from '../channels/work-channel.js';
import type { TaskSpec } from '../schemas/index.js';
import type { AttemptOutcome, Manager, RollbackOutcome } from './manager.js';
import { NO_RESULT, TaskFailure } from './task-failure.js';

interface TaskFacts {
  taskId: string;
  kind: string;
  action: string;
  /** Past this the broker has moved on; the signal aborts then. */
  deadlineAt: number;
  /** Aborted at the deadline, and when the worker's shutdown grace runs out. */
  signal: AbortSignal;
  log: Logger;
  /** The task as the broker accepted it (timeouts, attempts, origin), for handlers that need more. */
  task: TaskSpec;
}

export interface RunContext extends TaskFacts {
  /** The fencing token: pass it to every write, so a stale attempt cannot overwrite a newer one. */
  attempt: number;
  /** Reports progress (0–100); it also counts as a heartbeat. */
  progress(percent: number, message?: string): Promise<void>;
  /** Tells the broker this attempt is alive (the worker also heartbeats by itself when the task asks). */
  heartbeat(): Promise<void>;
  /** Await before the first change outside the handler when `startReport` is 'before-change'. */
  beforeChange(): Promise<void>;
}

export interface RollbackContext extends TaskFacts {
  rollbackAttempt: number;
  /** The last attempt whose effects must be undone (earlier ones may have left some too). */
  failedAttempt: number;
}

export interface KindHandlers<P> {
  /** Does the work; its return value (JSON) is the task's output. Return NO_RESULT to answer nothing. */
  run(payload: P, ctx: RunContext): Promise<unknown>;
  /**
   * Undoes what any attempt of the task may have done. Runs at least once per failed task
   * and maybe more (after an attempt that did nothing, too): it must be idempotent. Not
   * needed for a kind whose rollback is 'none': such rollbacks are answered at once.
   */
  rollback?(payload: P, ctx: RollbackContext): Promise<void>;
  /** 'before-change': the start is reported only at `beforeChange()` (or after a second), see Manager. */
  startReport?: 'before-run' | 'before-change';
  /** The least time the work takes, when the payload says; an order with less time left is not started. */
  expectedMs?(payload: P, order: WorkOrder): number | undefined;
}

/** A kind with its handlers: what a worker serves. */
export interface ServedKind {
  kind: NamedKind;
  manager: Manager;
}

export function implement<P>(kind: NamedKind<P>, handlers: KindHandlers<P>): ServedKind {
  const rollbackMode = kind.rollback ?? 'compensate';
  if (rollbackMode === 'compensate' && handlers.rollback === undefined) {
    throw new TypeError(`kind "${kind.name}" compensates on failure, so its handlers need a rollback (or define it with rollback: 'none')`);
  }
  const log = createLogger({ component: 'kind', kind: kind.name });
  const parse = (task: TaskSpec): P => {
    const schema = payloadSchemaFor(kind, task.action);
    if (schema === undefined) throw new TaskFailure(`kind "${kind.name}" has no action "${task.action}"`, { retriable: false });
    let json: unknown;
    try {
      json = JSON.parse(task.payload);
    } catch {
      throw new TaskFailure(`the payload of ${kind.name}/${task.action} is not JSON`, { retriable: false });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new TaskFailure(`the payload of ${kind.name}/${task.action} does not fit this worker's schema: ${issues}`, { retriable: false });
    }
    return parsed.data as P;
  };
  const facts = (task: TaskSpec, deadlineAt: number, signal: AbortSignal): TaskFacts => ({
    taskId: task.id,
    kind: task.kind,
    action: task.action,
    deadlineAt,
    signal,
    log: log.child({ taskId: task.id }),
    task,
  });
  const manager: Manager = {
    ...(handlers.startReport === undefined ? {} : { startReport: handlers.startReport }),
    async run(context): Promise<AttemptOutcome> {
      let output: unknown;
      try {
        const payload = parse(context.task);
        output = await handlers.run(payload, { ...facts(context.task, context.deadlineAt, context.signal), attempt: context.attempt, progress: context.progress, heartbeat: context.heartbeat, beforeChange: context.beforeChange });
      } catch (error) {
        if (error instanceof TaskFailure) return { type: 'failed', message: error.message, retriable: error.retriable };
        throw error; // the worker reports it as a retriable failure, or nothing once aborted
      }
      return output === NO_RESULT ? { type: 'silent' } : { type: 'succeeded', output: output ?? null };
    },
    async rollback(context): Promise<RollbackOutcome> {
      if (handlers.rollback === undefined) return { type: 'succeeded' }; // rollback 'none': nothing to undo
      try {
        await handlers.rollback(parse(context.task), { ...facts(context.task, context.deadlineAt, context.signal), rollbackAttempt: context.rollbackAttempt, failedAttempt: context.failedAttempt });
      } catch (error) {
        if (error instanceof TaskFailure) return { type: 'failed', message: error.message };
        throw error;
      }
      return { type: 'succeeded' };
    },
  };
  if (handlers.expectedMs !== undefined) {
    const expectedMs = handlers.expectedMs;
    manager.expectedMs = (order) => {
      if (order.type === 'RunRollback') return 0;
      try {
        return expectedMs(parse(order.body.task), order);
      } catch {
        return undefined; // run() fails it, saying why
      }
    };
  }
  return { kind, manager };
}

// Inputs, events and standard histories for the decider tests. One task, one clock origin.
import {
  createKindRegistry,
  defaultLifecycleDefaults,
  defaultLifecycleLimits,
  type DecideContext,
  type LifecycleDefaults,
  type LifecycleEvent,
  type LifecycleInput,
} from '../../../processors/lifecycle/index.js';
import type {
  Envelope,
  SubmitTask,
  TaskEventBodies,
  TaskRequestMessage,
  TaskResultBodies,
  TaskResultMessage,
  TaskSpec,
} from '../../../schemas/index.js';
import { submitBody as probeSubmission } from '../../support/raw-requests.js';

export const TASK_ID = '01970a3e-5c1b-7d2e-9f00-1234567890ab';
export const T0 = 1_750_000_000_000;
export const kinds = createKindRegistry();
export const limits = defaultLifecycleLimits();

export function context(now: number, defaults: Partial<LifecycleDefaults> = {}): DecideContext {
  return { now, kinds, defaults: { ...defaultLifecycleDefaults, ...defaults }, limits };
}

function envelope(): Envelope {
  return { eventId: 'f47ac10b-58cc-4372-a567-0e02b2c3d479', taskId: TASK_ID, sequence: 0, time: T0, causationId: null, correlationId: null };
}

export const submitBody: SubmitTask = probeSubmission({ origin: { type: 'topic', target: 'stackl.reply.replies' } });

function command(message: Omit<TaskRequestMessage, keyof Envelope>): LifecycleInput {
  return { type: 'command', message: { ...envelope(), ...message } as TaskRequestMessage };
}

export const submit = (overrides: Partial<SubmitTask> = {}): LifecycleInput =>
  command({ type: 'SubmitTask', body: { ...submitBody, ...overrides } });
export const cancel = (reason: string | null = null, requestedBy: string | null = null): LifecycleInput =>
  command({ type: 'CancelTask', body: { reason, requestedBy } });
export const retryRollback = (requestedBy: string | null = 'ops'): LifecycleInput =>
  command({ type: 'RetryRollback', body: { requestedBy } });
export const reportUndelivered = (message: string): LifecycleInput =>
  command({ type: 'ReportUndelivered', body: { target: 'https://h.test/x', code: 'WEBHOOK_UNDELIVERED', message } });
export const tick: LifecycleInput = { type: 'tick' };

export function result<K extends keyof TaskResultBodies>(type: K, body: TaskResultBodies[K]): LifecycleInput {
  return { type: 'result', message: { ...envelope(), type, body } as TaskResultMessage };
}

/** A typed event literal: `event('AttemptFailed', {...})`. */
export function event<K extends keyof TaskEventBodies>(type: K, body: TaskEventBodies[K]): LifecycleEvent {
  return { type, body } as LifecycleEvent;
}

/** The spec `submit(...)` produces at T0 with every default. */
export function spec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id: TASK_ID,
    kind: 'probe',
    action: 'run',
    payload: '{"outcome":"succeed"}',
    origin: { type: 'topic', target: 'stackl.reply.replies' },
    idempotencyKey: TASK_ID,
    timeoutMs: 300_000,
    attemptTimeoutMs: null,
    heartbeatTimeoutMs: null,
    maxAttempts: 1,
    retryBackoff: { initialMs: 1_000, multiplier: 2, maxMs: 60_000 },
    rollbackMaxAttempts: 5,
    rollbackBackoff: { initialMs: 1_000, multiplier: 2, maxMs: 60_000 },
    submittedAt: T0,
    ...overrides,
  };
}

/** Submitted at T0 and its first attempt dispatched (attempt deadline = the task's unless given). */
export function accepted(overrides: Partial<TaskSpec> = {}): LifecycleEvent[] {
  const task = spec(overrides);
  const deadlineAt = T0 + task.timeoutMs;
  const attemptDeadline = task.attemptTimeoutMs === null ? deadlineAt : Math.min(deadlineAt, T0 + task.attemptTimeoutMs);
  return [event('TaskSubmitted', { task, deadlineAt }), event('AttemptDispatched', { attempt: 1, deadlineAt: attemptDeadline })];
}

/** Accepted, then attempt 1 started by worker w1. */
export function running(overrides: Partial<TaskSpec> = {}): LifecycleEvent[] {
  const hb = overrides.heartbeatTimeoutMs ?? null;
  return [...accepted(overrides), event('AttemptStarted', { attempt: 1, workerId: 'w1', heartbeatDeadlineAt: hb === null ? null : T0 + hb })];
}

/** Running, then failed with rollback attempt 1 dispatched at T0 (deadline T0 + timeoutMs, at least 30 s). */
export function rollingBack(overrides: Partial<TaskSpec> = {}): LifecycleEvent[] {
  const task = spec(overrides);
  return [
    ...running(overrides),
    event('AttemptFailed', { attempt: 1, reason: 'error', message: 'boom', retryAt: null }),
    event('TaskFailed', { reason: 'error', message: 'boom (not retriable)' }),
    event('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: T0 + Math.max(task.attemptTimeoutMs ?? task.timeoutMs, 30_000) }),
  ];
}

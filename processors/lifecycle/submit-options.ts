import type { Backoff, Origin, SubmitTask, TaskSpec } from '../../schemas/index.js';
import type { LifecycleDefaults } from './defaults.js';
import type { KindDefaults } from './kinds/define-kind.js';
import { replyTopicProblem, TEXT_LIMITS, webhookProblem, type LifecycleLimits } from './limits.js';

/**
 * Longest duration a submission may ask for (one year). Far beyond any real task, yet it
 * keeps `now + duration` an exact integer, so no deadline ever becomes Infinity (which JSON
 * would silently turn into null in the stored state).
 */
export const MAX_DURATION_MS = 365 * 24 * 3_600_000;

/** Problems with the numeric options a submission sets; empty when all are usable. */
export function optionProblems(body: SubmitTask): string[] {
  const problems: string[] = [];
  const duration = (name: string, value: number | null, min: number): void => {
    if (value !== null && !(Number.isSafeInteger(value) && value >= min && value <= MAX_DURATION_MS)) {
      problems.push(`${name} must be an integer from ${min} to ${MAX_DURATION_MS} ms (got ${value})`);
    }
  };
  const count = (name: string, value: number | null): void => {
    if (value !== null && !(Number.isSafeInteger(value) && value >= 1)) problems.push(`${name} must be an integer of at least 1 (got ${value})`);
  };
  const backoff = (name: string, value: Backoff | null): void => {
    if (value === null) return;
    duration(`${name}.initialMs`, value.initialMs, 0);
    duration(`${name}.maxMs`, value.maxMs, 0);
    if (!(Number.isFinite(value.multiplier) && value.multiplier >= 1)) problems.push(`${name}.multiplier must be a number of at least 1 (got ${value.multiplier})`);
    if (value.maxMs < value.initialMs) problems.push(`${name}.maxMs (${value.maxMs}) must not be below ${name}.initialMs (${value.initialMs})`);
  };
  duration('timeoutMs', body.timeoutMs, 1);
  duration('attemptTimeoutMs', body.attemptTimeoutMs, 1);
  duration('heartbeatTimeoutMs', body.heartbeatTimeoutMs, 1);
  count('maxAttempts', body.maxAttempts);
  backoff('retryBackoff', body.retryBackoff);
  count('rollbackMaxAttempts', body.rollbackMaxAttempts);
  backoff('rollbackBackoff', body.rollbackBackoff);
  if (body.idempotencyKey !== null && body.idempotencyKey.trim() === '') problems.push('idempotencyKey must not be empty (omit it to use the task id)');
  return problems;
}

/**
 * Why the origin cannot receive a reply, or null. The adapter must be able to deliver what we
 * promise, and a submitter may never make the broker write to a topic of its choosing: only
 * under the deployment's reply prefix (never an internal or STACKL topic).
 */
export function originProblem(origin: Origin, limits: Pick<LifecycleLimits, 'replyTopicPrefix' | 'webhookHosts'>): string | null {
  if (origin.type === 'none') return null;
  if (origin.target === null || origin.target.trim() === '') return `origin type ${origin.type} needs a target`;
  if (origin.target.length > TEXT_LIMITS.originTarget) return `origin target must be at most ${TEXT_LIMITS.originTarget} characters (got ${origin.target.length})`;
  if (origin.type === 'topic') return replyTopicProblem(origin.target, limits);
  if (origin.type === 'webhook') return webhookProblem(origin.target, limits);
  return null;
}

/** The task as accepted: every default filled in, so the spec alone says how it will be run. */
export function resolveSpec(taskId: string, body: SubmitTask, defaults: LifecycleDefaults, now: number, kind: KindDefaults = {}): TaskSpec {
  // The submission's own value, then the kind's default, then the deployment's.
  return {
    id: taskId,
    kind: body.kind,
    action: body.action,
    payload: body.payload,
    origin: body.origin,
    idempotencyKey: body.idempotencyKey ?? taskId,
    timeoutMs: body.timeoutMs ?? kind.timeoutMs ?? defaults.timeoutMs,
    attemptTimeoutMs: body.attemptTimeoutMs ?? kind.attemptTimeoutMs ?? defaults.attemptTimeoutMs,
    heartbeatTimeoutMs: body.heartbeatTimeoutMs ?? kind.heartbeatTimeoutMs ?? defaults.heartbeatTimeoutMs,
    maxAttempts: body.maxAttempts ?? kind.maxAttempts ?? defaults.maxAttempts,
    retryBackoff: body.retryBackoff ?? { ...defaults.retryBackoff },
    rollbackMaxAttempts: body.rollbackMaxAttempts ?? kind.rollbackMaxAttempts ?? defaults.rollbackMaxAttempts,
    rollbackBackoff: body.rollbackBackoff ?? { ...defaults.rollbackBackoff },
    submittedAt: now,
  };
}

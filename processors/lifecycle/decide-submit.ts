import type { ZodType } from 'zod';
import type { SubmitTask } from '../../schemas/index.js';
import type { RejectionCode } from './codes.js';
import { payloadSchemaFor } from './kinds.js';
import { assertNever } from './never.js';
import { dispatchAttempt } from './outcomes.js';
import type { TaskState } from './state.js';
import { checkJsonText } from './json-text.js';
import { bounded, TEXT_LIMITS } from './limits.js';
import { optionProblems, originProblem, resolveSpec } from './submit-options.js';
import type { DecideContext, LifecycleEvent } from './types.js';

/**
 * SubmitTask. The task id is the envelope's taskId. Producers derive that id from their
 * idempotency key (with no key, the fresh id they mint is the key), so two submissions with
 * the same key land on the same id, hence on the same partition and the same state:
 * idempotency needs no index across tasks, only this comparison.
 */
export function decideSubmit(taskId: string, body: SubmitTask, state: TaskState, ctx: DecideContext): LifecycleEvent[] {
  switch (state.phase) {
    case 'Absent':
      return submitNew(taskId, body, ctx);
    case 'Retired':
      // Expunged within the idempotency window: a retry of a submission already answered.
      return [];
    case 'Rejected':
      // TaskRejected does not record the key, so a rejected id cannot tell a retry from a
      // clash; as ids come from keys, treat it as the same submission: its answer stands.
      return [];
    case 'Live': {
      const key = body.idempotencyKey ?? taskId;
      if (key === state.task.idempotencyKey) return [];
      const message = `task ${taskId} already exists with another idempotency key`;
      return [{ type: 'CommandRejected', body: { command: 'SubmitTask', code: 'TASK_ID_CONFLICT', message } }];
    }
    default:
      return assertNever(state, 'task state');
  }
}

function submitNew(taskId: string, body: SubmitTask, ctx: DecideContext): LifecycleEvent[] {
  const refusal = refusalOf(body, ctx);
  if (refusal !== null) return [{ type: 'TaskRejected', body: refusal }];
  // After validation: a bad request gets the answer that tells its sender what to fix.
  if (ctx.shedding !== undefined) return [{ type: 'TaskRejected', body: { code: 'OVERLOADED', message: bounded(`the broker is shedding load: ${ctx.shedding}; submit again later under a new idempotency key`) } }];
  const task = resolveSpec(taskId, body, ctx.defaults, ctx.now, ctx.kinds.get(body.kind)?.defaults);
  const deadlineAt = ctx.now + task.timeoutMs;
  return [{ type: 'TaskSubmitted', body: { task, deadlineAt } }, dispatchAttempt(task, deadlineAt, 1, ctx.now)];
}

/**
 * The first thing wrong with a submission. The origin comes first: a rejection is replied to
 * the origin, so it must be one we may write to. Then the names and the payload, in the
 * order a client would fix them. Every message quoting the input is bounded.
 */
function refusalOf(body: SubmitTask, ctx: DecideContext): { code: RejectionCode; message: string } | null {
  const origin = originProblem(body.origin, ctx.limits);
  if (origin !== null) return { code: 'INVALID_ORIGIN', message: origin };
  const names = nameProblems(body);
  if (names.length > 0) return { code: 'INVALID_OPTIONS', message: names.join('; ') };
  const kind = ctx.kinds.get(body.kind);
  if (kind === undefined) {
    const known = [...ctx.kinds.keys()].join(', ') || '(none)';
    return { code: 'UNKNOWN_KIND', message: `unknown kind "${body.kind}"; known kinds: ${known}` };
  }
  const schema = payloadSchemaFor(kind, body.action);
  if (schema === undefined) {
    return { code: 'UNKNOWN_ACTION', message: `kind "${body.kind}" has no action "${body.action}"; its actions: ${kind.actions.join(', ')}` };
  }
  const payload = payloadProblem(schema, body.payload, ctx.limits.maxPayloadBytes);
  if (payload !== null) return { code: payload.code, message: bounded(`payload of ${body.kind}/${body.action} ${payload.message}`) };
  const options = optionProblems(body);
  if (options.length > 0) return { code: 'INVALID_OPTIONS', message: bounded(options.join('; ')) };
  return null;
}

/** Names producers choose, bounded as the API bounds them, so no state grows with them. */
function nameProblems(body: SubmitTask): string[] {
  const problems: string[] = [];
  const check = (field: string, value: string | null, max: number): void => {
    if (value !== null && (value.length === 0 || value.length > max)) problems.push(`${field} must be 1 to ${max} characters (got ${value.length})`);
  };
  check('kind', body.kind, TEXT_LIMITS.name);
  check('action', body.action, TEXT_LIMITS.name);
  check('idempotencyKey', body.idempotencyKey, TEXT_LIMITS.idempotencyKey);
  return problems;
}

function payloadProblem(schema: ZodType, payload: string, maxBytes: number): { code: RejectionCode; message: string } | null {
  const checked = checkJsonText(payload, maxBytes);
  if (!checked.ok) return { code: checked.problem.code === 'TOO_LARGE' ? 'PAYLOAD_TOO_LARGE' : 'INVALID_PAYLOAD', message: checked.problem.message };
  const parsed = schema.safeParse(checked.value);
  if (parsed.success) return null;
  // Name every offending path so the client can fix them all at once.
  const issues = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  return { code: 'INVALID_PAYLOAD', message: `does not fit its schema: ${issues.join('; ')}` };
}

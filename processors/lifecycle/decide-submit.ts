import type { ZodType } from 'zod';
import type { SubmitTask } from '../../schemas/index.js';
import type { RejectionCode } from './codes.js';
import { payloadSchemaFor } from './kinds.js';
import { assertNever } from './never.js';
import { dispatchAttempt } from './outcomes.js';
import type { TaskState } from './state.js';
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
  const task = resolveSpec(taskId, body, ctx.defaults, ctx.now);
  const deadlineAt = ctx.now + task.timeoutMs;
  return [{ type: 'TaskSubmitted', body: { task, deadlineAt } }, dispatchAttempt(task, deadlineAt, 1, ctx.now)];
}

/** The first thing wrong with a submission, in the order a client would fix them. */
function refusalOf(body: SubmitTask, ctx: DecideContext): { code: RejectionCode; message: string } | null {
  const kind = ctx.kinds.get(body.kind);
  if (kind === undefined) {
    const known = [...ctx.kinds.keys()].join(', ') || '(none)';
    return { code: 'UNKNOWN_KIND', message: `unknown kind "${body.kind}"; known kinds: ${known}` };
  }
  const schema = payloadSchemaFor(kind, body.action);
  if (schema === undefined) {
    return { code: 'UNKNOWN_ACTION', message: `kind "${body.kind}" has no action "${body.action}"; its actions: ${kind.actions.join(', ')}` };
  }
  const payload = payloadProblem(schema, body.payload);
  if (payload !== null) return { code: 'INVALID_PAYLOAD', message: `payload of ${body.kind}/${body.action} ${payload}` };
  const options = optionProblems(body);
  if (options.length > 0) return { code: 'INVALID_OPTIONS', message: options.join('; ') };
  const origin = originProblem(body.origin);
  if (origin !== null) return { code: 'INVALID_ORIGIN', message: origin };
  return null;
}

function payloadProblem(schema: ZodType, payload: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch (error) {
    return `is not JSON: ${(error as Error).message}`;
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return null;
  // Name every offending path so the client can fix them all at once.
  const issues = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  return `does not fit its schema: ${issues.join('; ')}`;
}

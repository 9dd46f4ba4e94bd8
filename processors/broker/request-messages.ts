// The commands every broker accepts, as the Avro records of task.requests: built the same
// way whichever broker takes them (the Kafka broker reads them from its topic, the custom
// broker from its inbox table), so the lifecycle processor decides them the same.
import { StacklError } from '../../core/errors.js';
import { encode, taskRequestSchema, type TaskRequestMessage } from '../../schemas/index.js';
import { eventId, isTaskId, taskIdForKey, uuidV7 } from './ids.js';
import type { OperatorRequest, SubmitRequest } from './task-broker.js';

/** A request encoded once, ready for the log. */
export interface EncodedRequest {
  taskId: string;
  value: Buffer;
}

export function submitMessage(request: SubmitRequest): TaskRequestMessage {
  return { ...envelope(request.idempotencyKey === undefined ? uuidV7() : taskIdForKey(request.idempotencyKey), request.correlationId), type: 'SubmitTask', body: submitBody(request) };
}

export function cancelMessage(taskId: string, request: OperatorRequest = {}): TaskRequestMessage {
  return { ...envelope(checkedTaskId(taskId), request.correlationId), type: 'CancelTask', body: { reason: request.reason ?? null, requestedBy: request.requestedBy ?? null } };
}

export function retryRollbackMessage(taskId: string, request: OperatorRequest = {}): TaskRequestMessage {
  return { ...envelope(checkedTaskId(taskId), request.correlationId), type: 'RetryRollback', body: { requestedBy: request.requestedBy ?? null } };
}

/** The notifier gave up on a webhook: the broker records it on the task (ReplyUndelivered). */
export function undeliveredMessage(taskId: string, report: { target: string; code: string; message: string; causationId: string }): TaskRequestMessage {
  const { causationId, ...body } = report;
  return { ...envelope(checkedTaskId(taskId), undefined), causationId, type: 'ReportUndelivered', body };
}

export function encodedRequest(message: TaskRequestMessage): EncodedRequest {
  return { taskId: message.taskId, value: encode(taskRequestSchema, message) };
}

function envelope(taskId: string, correlationId: string | undefined) {
  return { eventId: eventId(), taskId, sequence: 0, time: Date.now(), causationId: null, correlationId: correlationId ?? null };
}

function checkedTaskId(taskId: string): string {
  if (!isTaskId(taskId)) throw new StacklError('INVALID_TASK_ID', `"${taskId}" is not a task id (a UUID)`, { httpStatus: 400 });
  return taskId;
}

function submitBody(request: SubmitRequest) {
  return {
    kind: request.kind,
    action: request.action,
    payload: JSON.stringify(request.payload ?? null),
    origin: request.origin ?? { type: 'none' as const, target: null },
    idempotencyKey: request.idempotencyKey ?? null,
    timeoutMs: request.timeoutMs ?? null,
    attemptTimeoutMs: request.attemptTimeoutMs ?? null,
    heartbeatTimeoutMs: request.heartbeatTimeoutMs ?? null,
    maxAttempts: request.maxAttempts ?? null,
    retryBackoff: request.retryBackoff ?? null,
    rollbackMaxAttempts: request.rollbackMaxAttempts ?? null,
    rollbackBackoff: request.rollbackBackoff ?? null,
  };
}

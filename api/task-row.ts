// Rows of the projection (deploy/migrations) → the API's task representation. Reads
// `select *`: a rejected submission has no kind, action, payload or origin, and the
// columns of later migrations read as null when a schema predates them.
import type { TaskBody, TaskEventBody } from './schemas.js';

export interface TaskRow {
  id: string;
  kind: string | null;
  action: string | null;
  status: string;
  rollback: string | null;
  failure_reason: string | null;
  failure_message: string | null;
  rejection_code?: string | null;
  rejection_message?: string | null;
  attempts: number;
  max_attempts?: number | null;
  worker_id?: string | null;
  progress_percent?: number | null;
  progress_message?: string | null;
  attempt_error?: string | null;
  retry_at?: Date | null;
  rollback_attempts?: number | null;
  rollback_error?: string | null;
  origin_type: string | null;
  origin_target: string | null;
  idempotency_key: string | null;
  payload: unknown;
  output: unknown;
  deadline_at: Date | null;
  created_at: Date;
  updated_at: Date;
  last_sequence: string | number;
  /** created_at in UTC with microseconds, for the page cursor (added by the list query). */
  cursor_at?: string;
}

export interface TaskEventRow {
  partition: number;
  offset: string | number;
  sequence: string | number;
  event_id: string;
  type: string;
  attempt: number | null;
  rollback_attempt?: number | null;
  time: Date;
  body: unknown;
  correlation_id?: string | null;
}

const iso = (date: Date | null | undefined): string | null => (date == null ? null : date.toISOString());

export function toTask(row: TaskRow): TaskBody {
  return {
    id: row.id,
    kind: row.kind,
    action: row.action,
    status: row.status,
    rollback: row.rollback,
    failure: row.failure_reason === null ? null : { reason: row.failure_reason, message: row.failure_message },
    rejection: row.rejection_code == null ? null : { code: row.rejection_code, message: row.rejection_message ?? null },
    attempts: row.attempts,
    maxAttempts: row.max_attempts ?? null,
    workerId: row.worker_id ?? null,
    progress: row.progress_percent == null ? null : { percent: row.progress_percent, message: row.progress_message ?? null },
    attemptError: row.attempt_error ?? null,
    retryAt: iso(row.retry_at),
    rollbackAttempts: row.rollback_attempts ?? 0,
    rollbackError: row.rollback_error ?? null,
    origin: row.origin_type === null ? null : { type: row.origin_type, target: row.origin_target },
    idempotencyKey: row.idempotency_key,
    payload: row.payload ?? null,
    output: row.output ?? null,
    deadlineAt: iso(row.deadline_at),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    sequence: Number(row.last_sequence),
  };
}

/** JSON text as the value it holds; text that is not JSON (never written by STACKL) stays text. */
function jsonValue(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The log carries payloads and outputs as JSON text (Avro strings); a reader of the API
 * gets them as JSON values, as GET /tasks/:id gives them, not as text inside JSON.
 */
function withJsonValues(type: string, body: unknown): unknown {
  if (body === null || typeof body !== 'object') return body;
  const record = body as Record<string, unknown>;
  if (type === 'TaskSubmitted' && record.task !== null && typeof record.task === 'object' && 'payload' in record.task) {
    return { ...record, task: { ...record.task, payload: jsonValue((record.task as { payload: unknown }).payload) } };
  }
  if ((type === 'AttemptSucceeded' || type === 'TaskCompleted') && 'output' in record) return { ...record, output: jsonValue(record.output) };
  return body;
}

export function toTaskEvent(row: TaskEventRow): TaskEventBody {
  return {
    partition: row.partition,
    offset: String(row.offset),
    sequence: Number(row.sequence),
    eventId: row.event_id,
    type: row.type,
    attempt: row.attempt,
    rollbackAttempt: row.rollback_attempt ?? null,
    time: row.time.toISOString(),
    body: withJsonValues(row.type, row.body),
    correlationId: row.correlation_id ?? null,
  };
}

// The columns of `tasks` and `task_events`, declared once: the SQL of table-sql.ts and
// the parameters write-batch.ts sends are both built from these lists, so a column
// cannot be written in one statement and forgotten in another. Each statement takes one
// parameter per column: a PostgreSQL array literal (for unnest), or for jsonb columns
// one JSON array of the values, which needs no escaping at all. Measured on this
// machine, that is several times cheaper than pg's generic array serializer, and
// PostgreSQL reads it faster than json_to_recordset.
import type { EventRow, TaskCurrent, TaskFacts } from './rows.js';
import { arrayLiteral, jsonArray, jsonText, textValue, timestampValue } from './sql-values.js';

export type SqlType = 'uuid' | 'text' | 'int4' | 'int8' | 'timestamptz' | 'jsonb';

export interface Column<R> {
  /** Column name, unquoted. */
  name: string;
  type: SqlType;
  /** The value as it goes into the array literal: a number, text, or null. */
  value(row: R): string | number | null;
}

const converters: Record<SqlType, (v: unknown) => string | number | null> = {
  uuid: (v) => v as string | null,
  int4: (v) => v as number | null,
  int8: (v) => v as number | null,
  text: (v) => textValue(v as string | null),
  timestamptz: (v) => timestampValue(v as number | null),
  // payload and output arrive as text that claims to be JSON, an event body as an object.
  jsonb: (v) => (v === null || v === undefined ? null : jsonText(v)),
};

/** A column maker bound to one row type, so keys are checked against it. */
function columnsOf<R>() {
  return <K extends keyof R & string>(name: string, type: SqlType, key: K): Column<R> => {
    const convert = converters[type];
    return { name, type, value: (row) => convert(row[key]) };
  };
}

export const idColumn: Column<{ id: string }> = columnsOf<{ id: string }>()('id', 'uuid', 'id');

const fact = columnsOf<TaskFacts>();
/** Columns set when the task is submitted or rejected, never changed afterwards. */
export const factColumns: Column<TaskFacts>[] = [
  fact('kind', 'text', 'kind'),
  fact('action', 'text', 'action'),
  fact('payload', 'jsonb', 'payload'),
  fact('origin_type', 'text', 'originType'),
  fact('origin_target', 'text', 'originTarget'),
  fact('idempotency_key', 'text', 'idempotencyKey'),
  fact('max_attempts', 'int4', 'maxAttempts'),
  fact('deadline_at', 'timestamptz', 'deadlineAt'),
  fact('created_at', 'timestamptz', 'createdAt'),
];

const current = columnsOf<TaskCurrent>();
/** Columns events move. */
export const currentColumns: Column<TaskCurrent>[] = [
  current('status', 'text', 'status'),
  current('rollback', 'text', 'rollback'),
  current('failure_reason', 'text', 'failureReason'),
  current('failure_message', 'text', 'failureMessage'),
  current('rejection_code', 'text', 'rejectionCode'),
  current('rejection_message', 'text', 'rejectionMessage'),
  current('attempts', 'int4', 'attempts'),
  current('worker_id', 'text', 'workerId'),
  current('progress_percent', 'int4', 'progressPercent'),
  current('progress_message', 'text', 'progressMessage'),
  current('attempt_error', 'text', 'attemptError'),
  current('retry_at', 'timestamptz', 'retryAt'),
  current('rollback_attempts', 'int4', 'rollbackAttempts'),
  current('rollback_error', 'text', 'rollbackError'),
  current('output', 'jsonb', 'output'),
  current('updated_at', 'timestamptz', 'updatedAt'),
  current('last_sequence', 'int8', 'lastSequence'),
  current('last_partition', 'int4', 'lastPartition'),
  current('last_offset', 'int8', 'lastOffset'),
];

export const taskColumns = [idColumn, ...factColumns, ...currentColumns] as Column<TaskFacts & TaskCurrent>[];
export const movedColumns = [idColumn, ...currentColumns] as Column<TaskCurrent>[];

const event = columnsOf<EventRow>();
export const eventColumns: Column<EventRow>[] = [
  event('partition', 'int4', 'partition'),
  event('offset', 'int8', 'offset'),
  event('event_id', 'uuid', 'eventId'),
  event('task_id', 'uuid', 'taskId'),
  event('sequence', 'int8', 'sequence'),
  event('type', 'text', 'type'),
  event('attempt', 'int4', 'attempt'),
  event('rollback_attempt', 'int4', 'rollbackAttempt'),
  event('time', 'timestamptz', 'time'),
  event('body', 'jsonb', 'body'),
  event('causation_id', 'text', 'causationId'),
  event('correlation_id', 'text', 'correlationId'),
];

/** The statement's parameters: one array literal per column, in column order. */
export function columnArrays<R>(columns: readonly Column<R>[], rows: readonly R[]): string[] {
  return columns.map((column) => {
    const values = rows.map((row) => column.value(row));
    return column.type === 'jsonb' ? jsonArray(values as (string | null)[]) : arrayLiteral(values);
  });
}

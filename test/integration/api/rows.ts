// Writes projection rows directly, standing in for the projector where a test needs
// known rows (filters, pagination) or a known projected offset.
import pg from 'pg';
import { uuidV7 } from '../../../processors/broker/ids.js';

export interface TaskRowInput {
  id?: string;
  kind?: string;
  action?: string;
  status?: string;
  rollback?: string | null;
  failureReason?: string | null;
  failureMessage?: string | null;
  originType?: string;
  originTarget?: string | null;
  createdAt?: Date;
  payload?: unknown;
  output?: unknown;
  /** A refused submission: status Rejected, and none of what an accepted task has. */
  rejection?: { code: string; message: string };
}

export async function insertTask(pool: pg.Pool, schema: string, input: TaskRowInput = {}): Promise<string> {
  const id = input.id ?? uuidV7(input.createdAt?.getTime());
  const createdAt = input.createdAt ?? new Date();
  const accepted = input.rejection === undefined;
  await pool.query(
    `insert into ${pg.escapeIdentifier(schema)}.tasks
       (id, kind, action, status, rollback, failure_reason, failure_message, attempts, origin_type, origin_target,
        idempotency_key, payload, output, deadline_at, created_at, updated_at, last_sequence, rejection_code, rejection_message)
     values ($1::uuid, $2, $3, $4, $5, $6, $7, 1, $8, $9, $13, $10, $11, null, $12, $12, 1, $14, $15)`,
    [
      id, accepted ? (input.kind ?? 'probe') : null, accepted ? (input.action ?? 'run') : null, accepted ? (input.status ?? 'Available') : 'Rejected',
      input.rollback ?? null, input.failureReason ?? null, input.failureMessage ?? null, accepted ? (input.originType ?? 'none') : null, input.originTarget ?? null,
      accepted ? JSON.stringify(input.payload ?? { outcome: 'succeed' }) : null, input.output === undefined ? null : JSON.stringify(input.output), createdAt,
      accepted ? id : null, input.rejection?.code ?? null, input.rejection?.message ?? null,
    ],
  );
  return id;
}

/** An event at (partition 0, offset); task_events is keyed by its place in the log. */
export async function insertEvent(pool: pg.Pool, schema: string, taskId: string, event: { sequence: number; offset: number; type: string; body?: unknown }): Promise<void> {
  await pool.query(
    `insert into ${pg.escapeIdentifier(schema)}.task_events (task_id, sequence, event_id, type, attempt, time, body, partition, "offset")
     values ($1, $2, gen_random_uuid(), $3, null, now(), $4, 0, $5)`,
    [taskId, event.sequence, event.type, JSON.stringify(event.body ?? {}), event.offset],
  );
}

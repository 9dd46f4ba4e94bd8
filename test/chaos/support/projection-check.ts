// Invariant 2's second half: the live projection against the log itself, not only
// against a replay through the same writer (which would share that writer's bugs). The
// test reads task.events straight from Kafka and folds each history here, with rules of
// its own taken from the lifecycle's documented meaning (status, rollback, failure
// reason, last sequence); every task in the log must have its row, every row its task.
import pg from 'pg';
import type { TaskEventMessage } from '../../../schemas/index.js';
import type { Histories } from './invariants.js';

export interface ProjectedRow {
  id: string;
  status: string;
  rollback: string | null;
  failureReason: string | null;
  lastSequence: number;
}

type Expected = Omit<ProjectedRow, 'id'>;

/** What the row of a task must say once the projector has applied its whole history. */
export function expectedRow(events: readonly TaskEventMessage[]): Expected | undefined {
  let row: Expected | undefined;
  for (const event of events) {
    if (event.type === 'TaskSubmitted') {
      // A task submitted again after an expunge starts a new row.
      row = { status: 'Available', rollback: null, failureReason: null, lastSequence: event.sequence };
      continue;
    }
    if (event.type === 'TaskRejected') {
      row = { status: 'Rejected', rollback: null, failureReason: null, lastSequence: event.sequence };
      continue;
    }
    // A rejected command about a task that does not exist (sequence 0) changes no row.
    if (row === undefined || event.sequence === 0) continue;
    row.lastSequence = event.sequence;
    switch (event.type) {
      case 'AttemptStarted':
        row.status = 'InProgress';
        break;
      case 'AttemptFailed':
        if (event.body.retryAt !== null) row.status = 'Available';
        break;
      case 'TaskCompleted':
        row.status = 'Completed';
        break;
      case 'TaskFailed':
        row.status = 'Failed';
        row.failureReason = event.body.reason;
        row.rollback = 'pending';
        break;
      case 'RollbackDispatched':
        row.rollback = 'running';
        break;
      case 'RollbackSucceeded':
        row.rollback = 'done';
        break;
      case 'RollbackFailed':
        row.rollback = event.body.retryAt === null ? 'failed' : 'pending';
        break;
      default:
        break;
    }
  }
  return row;
}

/** Every difference between the rows and the log; `rows` is the whole live `tasks` table. */
export function projectionMatchesLog(histories: Histories, rows: readonly ProjectedRow[]): string[] {
  const violations: string[] = [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const [taskId, events] of histories) {
    const expected = expectedRow(events);
    const row = byId.get(taskId);
    if (expected === undefined) {
      if (row !== undefined) violations.push(`projection has task ${taskId}, whose log holds no submission`);
      continue;
    }
    if (row === undefined) {
      violations.push(`projection lacks task ${taskId}; the log says ${describe(expected)}`);
      continue;
    }
    const { id: _id, ...actual } = row;
    if (describe(actual) !== describe(expected)) violations.push(`projection says task ${taskId} is ${describe(actual)}; the log says ${describe(expected)}`);
  }
  for (const row of rows) {
    if (!histories.has(row.id)) violations.push(`projection has task ${row.id}, which is not in task.events`);
  }
  return violations;
}

function describe(row: Expected): string {
  return `${row.status}${row.failureReason === null ? '' : ` (${row.failureReason})`}, rollback ${row.rollback ?? '-'}, last sequence ${row.lastSequence}`;
}

export async function projectedRows(pool: pg.Pool, schema: string): Promise<ProjectedRow[]> {
  const { rows } = await pool.query<{ id: string; status: string; rollback: string | null; failure_reason: string | null; last_sequence: string }>(
    `select id, status, rollback, failure_reason, last_sequence from ${pg.escapeIdentifier(schema)}.tasks`,
  );
  return rows.map((r) => ({ id: r.id, status: r.status, rollback: r.rollback, failureReason: r.failure_reason, lastSequence: Number(r.last_sequence) }));
}

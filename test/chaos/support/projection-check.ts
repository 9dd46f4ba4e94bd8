// Invariant 2's second half: the live projection against the log itself, not only
// against a replay through the same writer (which would share that writer's bugs). The
// test reads task.events straight from Kafka (or the custom broker's broker_events
// straight from PostgreSQL) and folds each history here, with rules of
// its own taken from the lifecycle's documented meaning (status, rollback, failure
// reason, last sequence); every task in the log must have its row, every row its task;
// and every event of the log must be in the projected history (task_events), once.
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

/** Every difference between the rows and the log; `rows` is the whole live `tasks` table; `logName` names the log in the messages. */
export function projectionMatchesLog(histories: Histories, rows: readonly ProjectedRow[], logName = 'task.events'): string[] {
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
    if (!histories.has(row.id)) violations.push(`projection has task ${row.id}, which is not in ${logName}`);
  }
  return violations;
}

export interface ProjectedEvent {
  taskId: string;
  sequence: number;
  type: string;
}

/** Every numbered event of the log is in task_events with its type, and task_events holds nothing else. */
export function historyMatchesLog(histories: Histories, rows: readonly ProjectedEvent[], logName = 'task.events'): string[] {
  const violations: string[] = [];
  const projected = new Map(rows.filter((r) => r.sequence > 0).map((r) => [`${r.taskId}#${r.sequence}`, r.type]));
  const logged = new Set<string>();
  for (const [taskId, events] of histories) {
    for (const event of events) {
      // A rejected command about a task that does not exist carries sequence 0: no place in a history.
      if (event.sequence === 0) continue;
      const key = `${taskId}#${event.sequence}`;
      logged.add(key);
      const type = projected.get(key);
      if (type === undefined) violations.push(`task_events lacks event ${event.sequence} (${event.type}) of task ${taskId}`);
      else if (type !== event.type) violations.push(`task_events has event ${event.sequence} of task ${taskId} as ${type}; the log says ${event.type}`);
    }
  }
  for (const key of projected.keys()) {
    if (!logged.has(key)) violations.push(`task_events has event ${key.replace('#', ' #')}, which is not in ${logName}`);
  }
  return violations;
}

export async function projectedEvents(pool: pg.Pool, schema: string): Promise<ProjectedEvent[]> {
  const { rows } = await pool.query<{ task_id: string; sequence: string; type: string }>(`select task_id, sequence, type from ${pg.escapeIdentifier(schema)}.task_events`);
  return rows.map((r) => ({ taskId: r.task_id, sequence: Number(r.sequence), type: r.type }));
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

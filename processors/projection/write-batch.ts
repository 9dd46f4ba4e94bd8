// One kafkajs batch, one PostgreSQL transaction: the events, the rows they move, the
// batch's dead letters and the partition's next offset commit together, so after a crash
// PostgreSQL is exactly at some batch boundary. The offset row is locked first: two
// projectors that briefly own the same partition (a rebalance) take turns, and the
// second skips what the first wrote.
import type pg from 'pg';
import { inTransaction } from '../../core/pg-transaction.js';
import { headersToJson, type DeadLetterRow } from './dead-letter-rows.js';
import { foldBatch, type PositionedEvent } from './fold-batch.js';
import type { TaskCurrent } from './rows.js';
import { numberFromDb, nullableNumberFromDb } from './sql-values.js';
import { columnArrays, eventColumns, movedColumns, taskColumns } from './task-columns.js';
import type { ProjectionSql } from './table-sql.js';

export interface BatchToWrite {
  projector: string;
  topic: string;
  partition: number;
  /** Decoded events in log order. */
  events: PositionedEvent[];
  /** Where the partition continues after this batch (past trailing transaction markers). */
  nextOffset: number;
  /** Records of the batch that did not decode, in log order. */
  deadLetters?: DeadLetterRow[];
  /** False for a replay: its dead letters are recorded, never published (the live projector does that). */
  publishDeadLetters?: boolean;
}

export interface BatchOutcome {
  /** Events written to task_events. */
  applied: number;
  /** Events before the stored offset: another projector, or an earlier run, wrote them. */
  belowStoredOffset: number;
  /** Events past the stored offset that task_events already held (only after a manual rewind). */
  duplicates: number;
  /** Events older than their task's row, so the row did not move. */
  staleForRow: number;
  nextOffset: number;
  /** Offsets of the dead letters this transaction recorded (not those an earlier delivery did): publish these. */
  deadLetters: number[];
}

export async function writeBatch(pool: pg.Pool, sql: ProjectionSql, batch: BatchToWrite): Promise<BatchOutcome> {
  return inTransaction(pool, async (client) => {
    const key = [batch.projector, batch.topic, batch.partition];
    const locked = await client.query<{ next_offset: number }>(sql.lockOffset, key);
    const stored = locked.rows[0] === undefined ? 0 : numberFromDb(locked.rows[0].next_offset);
    const fresh = batch.events.filter((e) => e.at.offset >= stored);
    const outcome: BatchOutcome = { applied: 0, belowStoredOffset: batch.events.length - fresh.length, duplicates: 0, staleForRow: 0, nextOffset: Math.max(stored, batch.nextOffset), deadLetters: [] };
    if (batch.nextOffset <= stored) return outcome;
    outcome.deadLetters = await recordDeadLetters(client, sql, batch, stored);
    const folded = foldBatch(fresh, await currentRows(client, sql, fresh));
    if (folded.events.length > 0) {
      const inserted = await client.query(sql.insertEvents, columnArrays(eventColumns, folded.events));
      outcome.applied = inserted.rowCount ?? 0;
      outcome.duplicates = folded.events.length - outcome.applied;
    }
    if (folded.created.length > 0) {
      await client.query(sql.upsertCreated, columnArrays(taskColumns, folded.created));
    }
    if (folded.updated.length > 0) {
      await client.query(sql.updateCurrent, columnArrays(movedColumns, folded.updated));
    }
    await client.query(sql.saveOffset, [...key, batch.nextOffset]);
    outcome.staleForRow = folded.alreadyApplied;
    return outcome;
  });
}

async function recordDeadLetters(client: pg.PoolClient, sql: ProjectionSql, batch: BatchToWrite, stored: number): Promise<number[]> {
  const rows = (batch.deadLetters ?? []).filter((d) => d.offset >= stored);
  if (rows.length === 0) return [];
  const { rows: recorded } = await client.query<{ offset: number }>(sql.insertDeadLetters, [
    batch.projector,
    batch.topic,
    batch.partition,
    batch.publishDeadLetters ?? true,
    rows.map((d) => d.offset),
    rows.map((d) => d.dlqTopic),
    rows.map((d) => d.key),
    rows.map((d) => d.value),
    rows.map((d) => headersToJson(d.headers)),
    rows.map((d) => d.errorCode),
    rows.map((d) => d.errorMessage),
  ]);
  return recorded.map((r) => r.offset).sort((a, b) => a - b);
}

async function currentRows(client: pg.PoolClient, sql: ProjectionSql, events: readonly PositionedEvent[]): Promise<Map<string, TaskCurrent>> {
  const ids = [...new Set(events.map((e) => e.event.taskId))];
  if (ids.length === 0) return new Map();
  const { rows } = await client.query<Record<string, unknown>>(sql.selectCurrent, [ids]);
  return new Map(rows.map((r) => [r.id as string, currentFromDb(r)]));
}

/** A row read back by selectCurrent (times and bigints already float8). */
export function currentFromDb(r: Record<string, unknown>): TaskCurrent {
  return {
    id: r.id as string,
    status: r.status as TaskCurrent['status'],
    rollback: r.rollback as TaskCurrent['rollback'],
    failureReason: r.failure_reason as TaskCurrent['failureReason'],
    failureMessage: r.failure_message as string | null,
    rejectionCode: r.rejection_code as string | null,
    rejectionMessage: r.rejection_message as string | null,
    attempts: numberFromDb(r.attempts),
    workerId: r.worker_id as string | null,
    progressPercent: nullableNumberFromDb(r.progress_percent),
    progressMessage: r.progress_message as string | null,
    attemptError: r.attempt_error as string | null,
    retryAt: nullableNumberFromDb(r.retry_at),
    rollbackAttempts: numberFromDb(r.rollback_attempts),
    rollbackError: r.rollback_error as string | null,
    output: r.output as string | null,
    updatedAt: numberFromDb(r.updated_at),
    lastSequence: numberFromDb(r.last_sequence),
    lastPartition: numberFromDb(r.last_partition),
    lastOffset: numberFromDb(r.last_offset),
  };
}

// The datastore of the `document` kind, on PostgreSQL. Every write goes through
// `write`, which in one transaction checks the task's fence (the attempt number is the
// fencing token; a task whose rollback started writes nothing more), records the key's
// state before the task first touched it, then writes. `rollback` raises the fence and
// puts every touched key back, in one transaction, as often as it is asked.
import pg from 'pg';
import { inTransaction } from '../../core/pg-transaction.js';
import { StacklError } from '../../core/errors.js';

export type DocumentBody = Record<string, unknown>;

export interface StoredDocument {
  key: string;
  body: DocumentBody;
  version: number;
  updatedByTask: string;
  updatedByAttempt: number;
}

/** Who writes: the task and the attempt (its fencing token). */
export interface Writer {
  taskId: string;
  attempt: number;
}

export type DocumentWrite =
  | { op: 'create'; key: string; body: DocumentBody }
  | { op: 'update'; key: string; body: DocumentBody }
  /** Create or update, whichever applies (a snapshot's restore). */
  | { op: 'put'; key: string; body: DocumentBody }
  | { op: 'delete'; key: string };

export interface WriteResult {
  key: string;
  /** The document's version after the write; null once deleted. */
  version: number | null;
}

/** The writer's task is rolled back, or a later attempt of it has written: nothing is written. */
export class FencedError extends StacklError {
  constructor(message: string, details: Record<string, unknown>) {
    super('FENCED', message, { httpStatus: 409, retriable: false, details });
  }
}

export class DocumentExistsError extends StacklError {
  constructor(key: string) {
    super('DOCUMENT_EXISTS', `document "${key}" already exists`, { httpStatus: 409, retriable: false, details: { key } });
  }
}

export class DocumentNotFoundError extends StacklError {
  constructor(key: string) {
    super('DOCUMENT_NOT_FOUND', `document "${key}" does not exist`, { httpStatus: 404, retriable: false, details: { key } });
  }
}

interface DocumentRow {
  key: string;
  body: DocumentBody;
  version: number;
  updated_by_task: string;
  updated_by_attempt: number;
}

export class DocumentStore {
  private readonly documents: string;
  private readonly snapshots: string;
  private readonly fences: string;
  private readonly journalTable: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    const quoted = pg.escapeIdentifier(schema);
    this.documents = `${quoted}.documents`;
    this.snapshots = `${quoted}.document_snapshots`;
    this.fences = `${quoted}.task_fences`;
    this.journalTable = `${quoted}.task_journal`;
  }

  async get(key: string): Promise<StoredDocument | undefined> {
    const { rows } = await this.pool.query<DocumentRow>(`select key, body, version, updated_by_task, updated_by_attempt from ${this.documents} where key = $1`, [key]);
    const row = rows[0];
    return row === undefined ? undefined : toDocument(row);
  }

  /**
   * A `query` task's read: in a read-only transaction (a statement that writes fails),
   * cut off by PostgreSQL after `timeoutMs`, so no query holds a connection for long.
   */
  async readOnly<T extends pg.QueryResultRow>(sql: (documentsTable: string) => { text: string; values: unknown[] }, timeoutMs: number): Promise<T[]> {
    return this.transaction(async (client) => {
      await client.query('set transaction read only');
      await client.query(`set local statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
      const { text, values } = sql(this.documents);
      return (await client.query<T>(text, values)).rows;
    });
  }

  /** Every document whose key starts with `prefix`, in key order. */
  async list(prefix: string): Promise<StoredDocument[]> {
    const { rows } = await this.pool.query<DocumentRow>(
      `select key, body, version, updated_by_task, updated_by_attempt from ${this.documents} where starts_with(key, $1) order by key`,
      [prefix],
    );
    return rows.map(toDocument);
  }

  /** The key's state before the task first touched it; undefined when the task never did. */
  async snapshotOf(taskId: string, key: string): Promise<{ existed: boolean; body: DocumentBody | null } | undefined> {
    const { rows } = await this.pool.query<{ existed: boolean; body: DocumentBody | null }>(`select existed, body from ${this.snapshots} where task_id = $1 and key = $2`, [taskId, key]);
    return rows[0];
  }

  /** Records, fenced, what the task is about to do outside the datastore (see 0005_task_journal.sql). */
  async journal(writer: Writer, entries: readonly string[]): Promise<void> {
    if (entries.length === 0) return;
    await this.transaction(async (client) => {
      await this.fence(client, writer);
      await client.query(`insert into ${this.journalTable} (task_id, entry) select $1, unnest($2::text[]) on conflict do nothing`, [writer.taskId, entries]);
    });
  }

  async journalOf(taskId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ entry: string }>(`select entry from ${this.journalTable} where task_id = $1 order by entry`, [taskId]);
    return rows.map((r) => r.entry);
  }

  /** One fenced write, in one transaction: fence check, snapshot if absent, then the write. */
  async write(writer: Writer, write: DocumentWrite): Promise<WriteResult> {
    return this.transaction(async (client) => {
      await this.fence(client, writer);
      const current = (await client.query<DocumentRow>(`select key, body, version, updated_by_task, updated_by_attempt from ${this.documents} where key = $1 for update`, [write.key])).rows[0];
      const snapshot = (await client.query<{ existed: boolean }>(`select existed from ${this.snapshots} where task_id = $1 and key = $2`, [writer.taskId, write.key])).rows[0];
      switch (write.op) {
        // A retried attempt finds its own earlier create: applying it again is harmless.
        case 'create':
          if (current !== undefined && !(snapshot?.existed === false && current.updated_by_task === writer.taskId)) throw new DocumentExistsError(write.key);
          break;
        case 'update':
          if (current === undefined) throw new DocumentNotFoundError(write.key);
          break;
        case 'put':
          break;
        case 'delete':
          // Deleted by an earlier attempt of this task: nothing left to do.
          if (current === undefined && snapshot?.existed === true) return { key: write.key, version: null };
          if (current === undefined) throw new DocumentNotFoundError(write.key);
          break;
        default: {
          const never: never = write;
          throw new Error(`unknown document write ${JSON.stringify(never)}`);
        }
      }
      if (snapshot === undefined) {
        await client.query(`insert into ${this.snapshots} (task_id, key, existed, body) values ($1, $2, $3, $4)`, [
          writer.taskId,
          write.key,
          current !== undefined,
          current === undefined ? null : JSON.stringify(current.body),
        ]);
      }
      if (write.op === 'delete') {
        await client.query(`delete from ${this.documents} where key = $1`, [write.key]);
        return { key: write.key, version: null };
      }
      const version = (current?.version ?? 0) + 1;
      const params = [write.key, JSON.stringify(write.body), version, writer.taskId, writer.attempt];
      if (current === undefined) {
        // A row another task inserted since our read is not overwritten: that create fails.
        const inserted = await client.query(
          `insert into ${this.documents} (key, body, version, updated_by_task, updated_by_attempt, updated_at) values ($1, $2, $3, $4, $5, now())
           on conflict (key) do nothing`,
          params,
        );
        if (inserted.rowCount === 0) throw new DocumentExistsError(write.key);
      } else {
        await client.query(
          `update ${this.documents} set body = $2, version = $3, updated_by_task = $4, updated_by_attempt = $5, updated_at = now() where key = $1`,
          params,
        );
      }
      return { key: write.key, version };
    });
  }

  /**
   * Fences the task for good and puts back every key it touched, in one transaction —
   * where the key still carries the task's own change. A key another task changed since
   * (or re-created after this task deleted it) is left alone: undoing this task must not
   * undo that one. Idempotent: running it again changes nothing more.
   */
  async rollback(taskId: string, failedAttempt: number): Promise<{ restored: string[]; leftAlone: string[] }> {
    return this.transaction(async (client) => {
      await client.query(
        `insert into ${this.fences} (task_id, attempt, rolled_back) values ($1, $2, true)
         on conflict (task_id) do update set rolled_back = true`,
        [taskId, failedAttempt],
      );
      const { rows } = await client.query<{ key: string; existed: boolean; body: DocumentBody | null }>(
        `select key, existed, body from ${this.snapshots} where task_id = $1 order by key`,
        [taskId],
      );
      const restored: string[] = [];
      const leftAlone: string[] = [];
      for (const snapshot of rows) {
        const current = (await client.query<{ updated_by_task: string }>(`select updated_by_task from ${this.documents} where key = $1 for update`, [snapshot.key])).rows[0];
        // Absent now: this task deleted it (it snapshotted an existing key) or never got to create it.
        const ours = current === undefined ? snapshot.existed : current.updated_by_task === taskId;
        if (!ours) {
          if (current !== undefined) leftAlone.push(snapshot.key);
          continue;
        }
        if (snapshot.existed) {
          await client.query(
            `insert into ${this.documents} (key, body, version, updated_by_task, updated_by_attempt, updated_at) values ($1, $2, 1, $3, $4, now())
             on conflict (key) do update set body = excluded.body, version = ${this.documents}.version + 1,
               updated_by_task = excluded.updated_by_task, updated_by_attempt = excluded.updated_by_attempt, updated_at = excluded.updated_at
             where ${this.documents}.body is distinct from excluded.body`,
            [snapshot.key, JSON.stringify(snapshot.body), taskId, failedAttempt],
          );
        } else {
          await client.query(`delete from ${this.documents} where key = $1`, [snapshot.key]);
        }
        restored.push(snapshot.key);
      }
      return { restored, leftAlone };
    });
  }

  /** Locks the task's fence row; refuses a rolled-back task or a stale attempt, else raises it. */
  private async fence(client: pg.PoolClient, writer: Writer): Promise<void> {
    await client.query(`insert into ${this.fences} (task_id, attempt) values ($1, $2) on conflict (task_id) do nothing`, [writer.taskId, writer.attempt]);
    const { rows } = await client.query<{ attempt: number; rolled_back: boolean }>(`select attempt, rolled_back from ${this.fences} where task_id = $1 for update`, [writer.taskId]);
    const fence = rows[0];
    if (fence === undefined) throw new Error(`fence of task ${writer.taskId} vanished`);
    const details = { taskId: writer.taskId, attempt: writer.attempt, fenceAttempt: fence.attempt };
    if (fence.rolled_back) throw new FencedError(`task ${writer.taskId} is being rolled back; attempt ${writer.attempt} may not write`, details);
    if (fence.attempt > writer.attempt) throw new FencedError(`attempt ${writer.attempt} of task ${writer.taskId} is stale: attempt ${fence.attempt} has written`, details);
    if (fence.attempt < writer.attempt) await client.query(`update ${this.fences} set attempt = $2 where task_id = $1`, [writer.taskId, writer.attempt]);
  }

  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }
}

function toDocument(row: DocumentRow): StoredDocument {
  return { key: row.key, body: row.body, version: row.version, updatedByTask: row.updated_by_task, updatedByAttempt: row.updated_by_attempt };
}

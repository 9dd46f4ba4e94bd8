// projection_offsets: the next offset of task.events each partition's projection reads.
// It is written in the same transaction as the rows, so it is the truth about what
// PostgreSQL holds; Kafka's committed offsets are never used.
import pg from 'pg';
import { numberFromDb } from './sql-values.js';

/** Anything that runs a query: a pg.Pool or a connected pg.Client. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** The name a projection's offsets are stored under; a replayed schema uses it too, so it could take over. */
export const PROJECTOR_NAME = 'projector';

export interface OffsetKey {
  schema: string;
  topic: string;
  projector?: string;
}

/** Rows at offset 0 for partitions never projected, so every batch can lock its row. */
export async function ensureOffsetRows(db: Queryable, key: OffsetKey, partitions: number): Promise<void> {
  await db.query(
    `insert into ${pg.escapeIdentifier(key.schema)}.projection_offsets (projector, topic, partition, next_offset)
     select $1, $2, p, 0 from generate_series(0, $3::int - 1) as p on conflict do nothing`,
    [key.projector ?? PROJECTOR_NAME, key.topic, partitions],
  );
}

/** The stored next offset of each partition; partitions never projected are absent (read them as 0). */
export async function storedOffsets(db: Queryable, key: OffsetKey): Promise<Map<number, number>> {
  const { rows } = await db.query<{ partition: number; next_offset: string }>(
    `select partition, next_offset from ${pg.escapeIdentifier(key.schema)}.projection_offsets where projector = $1 and topic = $2`,
    [key.projector ?? PROJECTOR_NAME, key.topic],
  );
  return new Map(rows.map((r) => [r.partition, numberFromDb(r.next_offset)]));
}

/** The next offset of `partition` the projection will read: every event before it is in PostgreSQL. */
export async function projectedThrough(db: Queryable, key: OffsetKey, partition: number): Promise<number> {
  const { rows } = await db.query<{ next_offset: string }>(
    `select next_offset from ${pg.escapeIdentifier(key.schema)}.projection_offsets where projector = $1 and topic = $2 and partition = $3`,
    [key.projector ?? PROJECTOR_NAME, key.topic, partition],
  );
  return rows[0] === undefined ? 0 : numberFromDb(rows[0].next_offset);
}

/**
 * Waits until the projection holds every event of `partition` before `offset` (so a
 * reader who saw an event at offset o waits for o + 1). Resolves false on timeout.
 */
export async function waitForProjection(db: Queryable, key: OffsetKey, partition: number, offset: number, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if ((await projectedThrough(db, key, partition)) >= offset) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, until - Date.now()))));
  }
}

/**
 * Moves past a fetch that held only transaction markers (or aborted records): kafkajs
 * never hands those to eachBatch, yet the end offset counts them. Moves only when the
 * stored offset lies inside that range, so a newer write is never undone.
 */
export async function advancePastMarkers(db: Queryable, key: OffsetKey, partition: number, first: number, last: number, cap?: number): Promise<boolean> {
  const next = Math.min(last + 1, cap ?? Number.MAX_SAFE_INTEGER);
  const { rowCount } = await db.query(
    `update ${pg.escapeIdentifier(key.schema)}.projection_offsets set next_offset = $4, updated_at = now()
     where projector = $1 and topic = $2 and partition = $3 and next_offset >= $5 and next_offset < $4`,
    [key.projector ?? PROJECTOR_NAME, key.topic, partition, next, first],
  );
  return (rowCount ?? 0) > 0;
}

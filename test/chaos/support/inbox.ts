// Rows written straight into the custom broker's inbox, as InboxClient writes them (the
// row on its task's partition, then a NOTIFY that wakes the partition's owner) but with
// any bytes at all: what a producer bypassing the API and its client may leave there.
// The chaos run sends hostile submissions and poison this way.
import type pg from 'pg';
import { brokerTables } from '../../../processors/broker/custom/tables.js';
import { partitionForKey } from '../../../topics/partitioner.js';

export interface InboxRow {
  taskId: string;
  source: 'request' | 'result';
  body: Buffer;
}

/** Inserts the rows in one statement; returns each row's inbox id and partition, in order. */
export async function insertInbox(pool: pg.Pool, schema: string, partitions: number, rows: readonly InboxRow[]): Promise<{ id: string; partition: number }[]> {
  const t = brokerTables(schema);
  const { rows: added } = await pool.query<{ id: string; partition: number }>(
    `with added as (
       insert into ${t.inbox} (partition, task_id, source, body)
       select p, t, s, b from unnest($1::int[], $2::text[], $3::text[], $4::bytea[]) with ordinality as r(p, t, s, b, n) order by n
       returning id, partition),
     woken as (select pg_notify($5, partition::text) from (select distinct partition from added) as d)
     select id, partition from added, (select count(*) from woken) as w order by id`,
    [rows.map((r) => partitionForKey(r.taskId, partitions)), rows.map((r) => r.taskId), rows.map((r) => r.source), rows.map((r) => r.body), t.inboxChannel],
  );
  return added;
}

/**
 * Whether a row of this task reached the broker after all: it waits in the inbox, or the
 * broker decided it (every decided request leaves an event or a dead letter behind).
 */
export async function inboxRowLanded(pool: pg.Pool, schema: string, taskId: string): Promise<boolean> {
  const t = brokerTables(schema);
  const { rows } = await pool.query<{ landed: boolean }>(
    `select exists (select 1 from ${t.inbox} where task_id = $1) or exists (select 1 from ${t.events} where task_id = $1) or exists (select 1 from ${t.deadLetters} where task_id = $1) as landed`,
    [taskId],
  );
  return rows[0]?.landed === true;
}

// The statements one batch runs, built once per schema from the column lists. Every
// write is one statement for the whole batch (unnest of one array per column), and
// every task write is guarded by the log position, so rows only ever move forward.
import pg from 'pg';
import { currentColumns, eventColumns, movedColumns, taskColumns, type Column } from './task-columns.js';

export interface ProjectionSql {
  lockOffset: string;
  saveOffset: string;
  selectCurrent: string;
  insertEvents: string;
  upsertCreated: string;
  updateCurrent: string;
  /** The batch's dead letters, one array per column; returns the offsets newly recorded. */
  insertDeadLetters: string;
}

const id = (c: Column<never>) => pg.escapeIdentifier(c.name);

/** How a moved column is read back for the next fold: times and bigints as float8 (exact below 2^53). */
function readBack(c: Column<never>): string {
  const name = id(c);
  if (c.type === 'timestamptz') return `(extract(epoch from ${name}) * 1000)::float8 as ${name}`;
  if (c.type === 'int4' || c.type === 'int8') return `${name}::float8 as ${name}`;
  if (c.type === 'jsonb') return `${name}::text as ${name}`;
  return name;
}

/** An array parameter; a jsonb column arrives as one JSON array of {"v": value} (sql-values.ts jsonArray). */
function arrayParameter(c: Column<never>, n: number): string {
  if (c.type !== 'jsonb') return `$${n}::${c.type}[]`;
  return `array(select e -> 'v' from jsonb_array_elements($${n}::jsonb) with ordinality as j(e, i) order by i)`;
}

/** `unnest($1::uuid[], …) as v(id, …)`: one row per element, columns zipped by position. */
function unnest(columns: readonly Column<never>[]): string {
  return `unnest(${columns.map((c, i) => arrayParameter(c, i + 1)).join(', ')}) as v(${columns.map((c) => id(c)).join(', ')})`;
}

function values(columns: readonly Column<never>[]): string {
  return columns.map((c) => `v.${id(c)}`).join(', ');
}

export function projectionSql(schema: string): ProjectionSql {
  const s = pg.escapeIdentifier(schema);
  const list = (columns: readonly Column<never>[]) => columns.map((c) => id(c)).join(', ');
  const forward = (row: string, next: string) => `(${row}.last_partition, ${row}.last_offset) < (${next}.last_partition, ${next}.last_offset)`;
  return {
    lockOffset: `select next_offset::float8 as next_offset from ${s}.projection_offsets where projector = $1 and topic = $2 and partition = $3 for update`,
    saveOffset: `insert into ${s}.projection_offsets (projector, topic, partition, next_offset, updated_at) values ($1, $2, $3, $4, now())
                 on conflict (projector, topic, partition) do update set next_offset = excluded.next_offset, updated_at = excluded.updated_at`,
    selectCurrent: `select id::text as id, ${currentColumns.map((c) => readBack(c as Column<never>)).join(', ')} from ${s}.tasks where id = any($1::uuid[])`,
    insertEvents: `insert into ${s}.task_events (${list(eventColumns)}) select ${values(eventColumns)} from ${unnest(eventColumns)} on conflict do nothing`,
    upsertCreated: `insert into ${s}.tasks as t (${list(taskColumns)}) select ${values(taskColumns)} from ${unnest(taskColumns)}
                    on conflict (id) do update set ${taskColumns.slice(1).map((c) => `${id(c)} = excluded.${id(c)}`).join(', ')}
                    where ${forward('t', 'excluded')}`,
    updateCurrent: `update ${s}.tasks as t set ${movedColumns.slice(1).map((c) => `${id(c)} = ${values([c])}`).join(', ')}
                    from ${unnest(movedColumns)} where t.id = v.id and ${forward('t', 'v')}`,
    // Keyed by source position: a batch delivered again inserts nothing, and returns nothing to publish.
    insertDeadLetters: `insert into ${s}.projection_dead_letters (projector, topic, partition, "offset", dlq_topic, key, value, headers, error_code, error_message, publish)
                        select $1, $2, $3, v."offset", v.dlq_topic, v.key, v.value, v.headers::jsonb, v.error_code, v.error_message, $4
                        from unnest($5::int8[], $6::text[], $7::bytea[], $8::bytea[], $9::text[], $10::text[], $11::text[])
                          as v("offset", dlq_topic, key, value, headers, error_code, error_message)
                        on conflict do nothing returning "offset"::float8 as "offset"`,
  };
}

// Compares two projections row for row, every column (to_jsonb of whole rows, so a
// column a later migration adds is compared too). Used to prove a replay equals the
// live projection, and that replaying the same log twice gives the same rows.
import pg from 'pg';

export interface ProjectionDifference {
  table: 'tasks' | 'task_events';
  taskId: string;
  /** The event's position, for task_events rows. */
  position: { partition: number; offset: number } | null;
  /** `only-in-a` / `only-in-b`: the row exists in one schema; `column`: both have it, one column differs. */
  kind: 'only-in-a' | 'only-in-b' | 'column';
  column: string | null;
  /** The column's value in A (or the whole row, for only-in-a); null when absent. */
  a: unknown;
  b: unknown;
}

export interface CompareOptions {
  /**
   * Compare only what both projections hold: per partition, events before this offset
   * and tasks whose last applied event is before it. Partitions not named compare fully.
   */
  through?: ReadonlyMap<number, number>;
  /** Stop after this many differing rows (default: report everything). */
  limit?: number;
}

interface DiffRow {
  task_id: string;
  a: Record<string, unknown> | null;
  b: Record<string, unknown> | null;
}

export async function compareProjections(databaseUrl: string, schemaA: string, schemaB: string, options: CompareOptions = {}): Promise<ProjectionDifference[]> {
  const a = pg.escapeIdentifier(schemaA);
  const b = pg.escapeIdentifier(schemaB);
  const through = [...(options.through ?? new Map<number, number>())];
  const params = [through.map(([p]) => p), through.map(([, o]) => o), options.limit ?? null];
  const beyond = (partition: string, offset: string) => `exists (select 1 from unnest($1::int4[], $2::int8[]) as t(p, o) where ${partition} = t.p and ${offset} >= t.o)`;
  const client = new pg.Client({ connectionString: databaseUrl });
  // A dropped connection fails the query in flight; its 'error' event, unheard, would end the process.
  client.on('error', () => {});
  await client.connect();
  try {
    const tasks = await client.query<DiffRow>(
      `select coalesce(a.id, b.id)::text as task_id, to_jsonb(a) as a, to_jsonb(b) as b
       from ${a}.tasks a full join ${b}.tasks b on a.id = b.id
       where to_jsonb(a) is distinct from to_jsonb(b)
         and not ${beyond('a.last_partition', 'a.last_offset')} and not ${beyond('b.last_partition', 'b.last_offset')}
       order by 1 limit $3`,
      params,
    );
    const events = await client.query<DiffRow>(
      `select coalesce(a.task_id, b.task_id)::text as task_id, to_jsonb(a) as a, to_jsonb(b) as b
       from ${a}.task_events a full join ${b}.task_events b on a.partition = b.partition and a."offset" = b."offset"
       where to_jsonb(a) is distinct from to_jsonb(b)
         and not ${beyond('coalesce(a.partition, b.partition)', 'coalesce(a."offset", b."offset")')}
       order by coalesce(a.partition, b.partition), coalesce(a."offset", b."offset") limit $3`,
      params,
    );
    return [...tasks.rows.flatMap((r) => differences('tasks', r)), ...events.rows.flatMap((r) => differences('task_events', r))];
  } finally {
    await client.end();
  }
}

function differences(table: ProjectionDifference['table'], row: DiffRow): ProjectionDifference[] {
  const either = (row.a ?? row.b) as Record<string, unknown>;
  const position = table === 'task_events' ? { partition: Number(either.partition), offset: Number(either.offset) } : null;
  const base = { table, taskId: row.task_id, position };
  if (row.b === null) return [{ ...base, kind: 'only-in-a', column: null, a: row.a, b: null }];
  if (row.a === null) return [{ ...base, kind: 'only-in-b', column: null, a: null, b: row.b }];
  const { a, b } = row;
  const columns = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return columns
    .filter((column) => JSON.stringify(a[column] ?? null) !== JSON.stringify(b[column] ?? null))
    .map((column) => ({ ...base, kind: 'column' as const, column, a: a[column] ?? null, b: b[column] ?? null }));
}

/** One line a person can act on: which task (and event), which column, both values. */
export function describeDifference(d: ProjectionDifference, nameA = 'a', nameB = 'b'): string {
  const where = d.position === null ? `task ${d.taskId}` : `task ${d.taskId} event at ${d.position.partition}:${d.position.offset}`;
  if (d.kind === 'only-in-a') return `${d.table}: ${where} is in ${nameA} but missing from ${nameB}`;
  if (d.kind === 'only-in-b') return `${d.table}: ${where} is in ${nameB} but missing from ${nameA}`;
  return `${d.table}: ${where} differs in ${d.column}: ${nameA}=${JSON.stringify(d.a)} ${nameB}=${JSON.stringify(d.b)}`;
}

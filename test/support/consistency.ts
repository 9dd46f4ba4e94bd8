// The consistency check every end-to-end and chaos test shares: once all tasks ended,
//  1. the environment holds exactly what the datastore's stack instances say (every
//     service on every target of its placement, with its spec; nothing else);
//  2. every completed task's effects are in the datastore;
//  3. every rolled-back task left nothing: each key it touched is as it was before it.
// Keys touched by more than one of the given tasks are checked only by (1), since a
// later task may rightly have changed them; a task whose rollback gave up is listed for
// an operator and judged by nothing here. Returns every violation, described.
import pg from 'pg';

export type TaskOutcome = 'completed' | 'rolled-back' | 'rollback-failed';

export interface EndedTask {
  taskId: string;
  kind: string;
  action: string;
  payload: Record<string, unknown>;
  outcome: TaskOutcome;
}

interface Instance {
  services: { name: string; config: Record<string, unknown> }[];
  placement: { service: string; target: string }[];
}

export async function checkConsistency(pool: pg.Pool, datastoreSchema: string, environmentSchema: string, tasks: readonly EndedTask[]): Promise<string[]> {
  const ds = pg.escapeIdentifier(datastoreSchema);
  const env = pg.escapeIdentifier(environmentSchema);
  const violations: string[] = [];
  const documents = new Map(
    (await pool.query<{ key: string; body: Record<string, unknown> }>(`select key, body from ${ds}.documents`)).rows.map((r) => [r.key, r.body] as const),
  );

  // 1. datastore ↔ environment, except stacks whose rollback gave up (left to an operator).
  const operatorStacks = new Set(tasks.filter((t) => t.kind === 'stack' && t.outcome === 'rollback-failed').map((t) => String(t.payload.name)));
  const judged = (place: string): boolean => !operatorStacks.has(place.slice(place.indexOf('|') + 1).split('/')[0] ?? '');
  const expected = new Map<string, string>();
  for (const [key, body] of documents) {
    if (!key.startsWith('stack/instance/')) continue;
    const stack = key.slice('stack/instance/'.length);
    const instance = body as unknown as Instance;
    const services = new Map(instance.services.map((s) => [s.name, s]));
    for (const { service, target } of instance.placement) {
      expected.set(`${target}|${stack}/${service}`, canonical({ stack, service, config: services.get(service)?.config ?? {} }));
    }
  }
  const present = await environmentResources(pool, env);
  for (const [place, spec] of expected) {
    if (!judged(place)) continue;
    const actual = present.get(place);
    if (actual === undefined) violations.push(`environment lacks ${place}, which the datastore's instance places there`);
    else if (actual !== spec) violations.push(`environment has ${place} as ${actual}, the datastore says ${spec}`);
  }
  for (const place of present.keys()) {
    if (judged(place) && !expected.has(place)) violations.push(`environment has ${place}, which no stack instance in the datastore places there`);
  }

  // 2 and 3, per task.
  const touchedBy = new Map<string, string[]>();
  const snapshots = new Map<string, { key: string; existed: boolean; body: unknown }[]>();
  const ids = tasks.map((t) => t.taskId);
  for (const row of (await pool.query<{ task_id: string; key: string; existed: boolean; body: unknown }>(`select task_id, key, existed, body from ${ds}.document_snapshots where task_id = any($1)`, [ids])).rows) {
    touchedBy.set(row.key, [...(touchedBy.get(row.key) ?? []), row.task_id]);
    snapshots.set(row.task_id, [...(snapshots.get(row.task_id) ?? []), row]);
  }
  const shared = (key: string): boolean => (touchedBy.get(key)?.length ?? 0) > 1;
  for (const task of tasks) {
    const label = `${task.kind}/${task.action} task ${task.taskId}`;
    if (task.outcome === 'rolled-back') {
      for (const snapshot of snapshots.get(task.taskId) ?? []) {
        if (shared(snapshot.key)) continue;
        const now = documents.get(snapshot.key);
        if (!snapshot.existed && now !== undefined) violations.push(`${label} rolled back but left ${snapshot.key} behind`);
        if (snapshot.existed && canonical(now) !== canonical(snapshot.body)) violations.push(`${label} rolled back but ${snapshot.key} is ${canonical(now)}, not ${canonical(snapshot.body)}`);
      }
    } else if (task.outcome === 'completed') {
      for (const [key, body] of expectedEffects(task)) {
        if (shared(key)) continue;
        const now = documents.get(key);
        if (body === null && now !== undefined) violations.push(`${label} completed but ${key} still exists`);
        if (body === 'present' && now === undefined) violations.push(`${label} completed but ${key} is missing`);
        if (body !== null && body !== 'present' && canonical(now) !== canonical(body)) violations.push(`${label} completed but ${key} is ${canonical(now)}, not ${canonical(body)}`);
      }
    }
  }
  return violations;
}

/** The datastore keys a completed task must have left, with their body (null: absent; 'present': exists). */
function expectedEffects(task: EndedTask): [string, unknown][] {
  const p = task.payload as Record<string, unknown>;
  switch (task.kind) {
    case 'document':
      if (task.action === 'delete') return (p.keys as string[]).map((key) => [key, null]);
      return (p.documents as { key: string; body: unknown }[]).map((d) => [d.key, d.body]);
    case 'stack':
      return [[`stack/instance/${p.name as string}`, task.action === 'delete' ? null : 'present']];
    case 'snapshot':
      return task.action === 'create' ? [[`snapshot/documents/${p.name as string}`, 'present']] : [];
    default:
      return [];
  }
}

async function environmentResources(pool: pg.Pool, env: string): Promise<Map<string, string>> {
  const exists = await pool.query(`select 1 from information_schema.tables where table_schema = $1 and table_name = 'resources'`, [env.replace(/"/g, '')]);
  if (exists.rowCount === 0) return new Map();
  const { rows } = await pool.query<{ target: string; resource: string; spec: unknown }>(`select target, resource, spec from ${env}.resources where present`);
  return new Map(rows.map((r) => [`${r.target}|${r.resource}`, canonical(r.spec)]));
}

function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sort(x)]));
    return v;
  };
  return JSON.stringify(sort(value)) ?? 'undefined';
}

/**
 * A task's outcome from its history in task.events; undefined while it has not ended.
 * A RollbackFailed that names a retry time is not an end: the broker tries again.
 */
export function outcomeOf(events: readonly { type: string; body?: unknown }[]): TaskOutcome | undefined {
  const types = events.map((e) => e.type);
  if (types.includes('TaskCompleted')) return 'completed';
  if (types.includes('RollbackSucceeded')) return 'rolled-back';
  const lastRollbackFailure = [...events].reverse().find((e) => e.type === 'RollbackFailed');
  const givenUp = lastRollbackFailure !== undefined && (lastRollbackFailure.body as { retryAt?: unknown } | undefined)?.retryAt == null;
  if (givenUp && types.includes('TaskFailed') && types.lastIndexOf('RollbackFailed') > types.lastIndexOf('RollbackDispatched')) return 'rollback-failed';
  return undefined;
}

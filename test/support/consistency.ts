// The consistency check every end-to-end and chaos test shares: once all tasks ended,
//  1. the environment holds exactly what the datastore's stack instances say (every
//     service on every target of its placement, with its spec; nothing else);
//  2. every completed task's effects are in the datastore, and a completed stack's
//     instance is the stack it asked for (its services, their config, as many replicas
//     on distinct targets offering what each service requires);
//  3. every rolled-back task left nothing: each key it touched is as it was before it;
//  4. no document is a stray: the task that last wrote it completed and asked for that
//     key, or rolled back and put back what was there before it. With
//     `everyWriterListed`, a document written by a task not given is a stray too.
// Keys touched by more than one of the given tasks are checked only by (1) and (4),
// since a later task may rightly have changed them; a task whose rollback gave up is
// listed for an operator and judged by nothing here. Returns every violation, described.
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
  services: { name: string; requires?: string[]; replicas?: number; config?: Record<string, unknown> }[];
  placement: { service: string; target: string }[];
}

export interface ConsistencyOptions {
  /** Every task that may have written the datastore is among those given (the chaos run's load). */
  everyWriterListed?: boolean;
}

export interface ConsistencyReport {
  violations: string[];
  /** Tasks with effects the check judged: a completed task's effects, a rolled-back task's touched keys. */
  checkedTasks: number;
  documents: number;
}

export interface StoredState {
  documents: { key: string; body: Record<string, unknown>; updatedByTask: string }[];
  /** The given tasks' snapshots: each key's state before the task first wrote it. */
  snapshots: { taskId: string; key: string; existed: boolean; body: unknown }[];
  /** Resources present in the environment. */
  resources: { target: string; resource: string; spec: unknown }[];
}

export async function checkConsistency(pool: pg.Pool, datastoreSchema: string, environmentSchema: string, tasks: readonly EndedTask[], options: ConsistencyOptions = {}): Promise<string[]> {
  return (await consistencyReport(pool, datastoreSchema, environmentSchema, tasks, options)).violations;
}

export async function consistencyReport(pool: pg.Pool, datastoreSchema: string, environmentSchema: string, tasks: readonly EndedTask[], options: ConsistencyOptions = {}): Promise<ConsistencyReport> {
  return judgeConsistency(await readStoredState(pool, datastoreSchema, environmentSchema, tasks.map((t) => t.taskId)), tasks, options);
}

export async function readStoredState(pool: pg.Pool, datastoreSchema: string, environmentSchema: string, taskIds: readonly string[]): Promise<StoredState> {
  const ds = pg.escapeIdentifier(datastoreSchema);
  const documents = (await pool.query<{ key: string; body: Record<string, unknown>; updated_by_task: string }>(`select key, body, updated_by_task from ${ds}.documents`)).rows;
  const snapshots = (await pool.query<{ task_id: string; key: string; existed: boolean; body: unknown }>(`select task_id, key, existed, body from ${ds}.document_snapshots where task_id = any($1)`, [taskIds])).rows;
  return {
    documents: documents.map((r) => ({ key: r.key, body: r.body, updatedByTask: r.updated_by_task })),
    snapshots: snapshots.map((r) => ({ taskId: r.task_id, key: r.key, existed: r.existed, body: r.body })),
    resources: await environmentResources(pool, environmentSchema),
  };
}

/** The check itself, on what was read: pure, so each rule is unit-tested on hand-made state. */
export function judgeConsistency(state: StoredState, tasks: readonly EndedTask[], options: ConsistencyOptions = {}): ConsistencyReport {
  const violations: string[] = [];
  const rows = state.documents;
  const documents = new Map(rows.map((r) => [r.key, r.body] as const));

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
  const present = new Map(state.resources.map((r) => [`${r.target}|${r.resource}`, canonical(r.spec)]));
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
  for (const row of state.snapshots) {
    touchedBy.set(row.key, [...(touchedBy.get(row.key) ?? []), row.taskId]);
    snapshots.set(row.taskId, [...(snapshots.get(row.taskId) ?? []), row]);
  }
  const shared = (key: string): boolean => (touchedBy.get(key)?.length ?? 0) > 1;
  let checkedTasks = 0;
  for (const task of tasks) {
    const label = `${task.kind}/${task.action} task ${task.taskId}`;
    let checked = false;
    if (task.outcome === 'rolled-back') {
      for (const snapshot of snapshots.get(task.taskId) ?? []) {
        if (shared(snapshot.key)) continue;
        checked = true;
        const now = documents.get(snapshot.key);
        if (!snapshot.existed && now !== undefined) violations.push(`${label} rolled back but left ${snapshot.key} behind`);
        if (snapshot.existed && canonical(now) !== canonical(snapshot.body)) violations.push(`${label} rolled back but ${snapshot.key} is ${canonical(now)}, not ${canonical(snapshot.body)}`);
      }
    } else if (task.outcome === 'completed') {
      for (const [key, body] of expectedEffects(task)) {
        if (shared(key)) continue;
        checked = true;
        const now = documents.get(key);
        if (body === null && now !== undefined) violations.push(`${label} completed but ${key} still exists`);
        if (body === 'present' && now === undefined) violations.push(`${label} completed but ${key} is missing`);
        if (body !== null && body !== 'present' && canonical(now) !== canonical(body)) violations.push(`${label} completed but ${key} is ${canonical(now)}, not ${canonical(body)}`);
        if (task.kind === 'stack' && Array.isArray(task.payload.services) && now !== undefined) violations.push(...stackShape(label, task.payload, now as unknown as Instance, documents));
      }
    }
    if (checked) checkedTasks += 1;
  }

  // 4. strays: every document is accounted for by the task that last wrote it.
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  for (const row of rows) {
    const writer = byId.get(row.updatedByTask);
    if (writer === undefined) {
      if (options.everyWriterListed === true) violations.push(`document ${row.key} was last written by task ${row.updatedByTask}, which is none of the tasks`);
      continue;
    }
    const label = `${writer.kind}/${writer.action} task ${writer.taskId}`;
    if (writer.outcome === 'completed' && !mayHaveWritten(writer, row.key, documents)) violations.push(`document ${row.key} was written by ${label}, which completed without asking for that key`);
    // A rolled-back task's own keys were judged by (3); a shared key is judged here. Putting
    // back what was there before the task is the only write a rollback may leave.
    if (writer.outcome === 'rolled-back' && shared(row.key)) {
      const before = (snapshots.get(writer.taskId) ?? []).find((s) => s.key === row.key);
      if (before?.existed !== true || canonical(before.body) !== canonical(row.body)) violations.push(`document ${row.key} was left by ${label}, which rolled back`);
    }
  }
  return { violations, checkedTasks, documents: rows.length };
}

/** A completed stack create or update: the instance holds the services asked for, each placed as asked. */
function stackShape(label: string, payload: Record<string, unknown>, instance: Instance, documents: ReadonlyMap<string, Record<string, unknown>>): string[] {
  const violations: string[] = [];
  const asked = (payload.services as Instance['services'] | undefined) ?? [];
  const held = new Map(instance.services.map((s) => [s.name, s]));
  if (held.size !== asked.length || asked.some((s) => !held.has(s.name))) violations.push(`${label} completed but its instance has services ${[...held.keys()].join(',')}, not ${asked.map((s) => s.name).join(',')}`);
  for (const service of asked) {
    const requires = service.requires ?? [];
    const targets = instance.placement.filter((p) => p.service === service.name).map((p) => p.target);
    const config = held.get(service.name)?.config ?? {};
    if (canonical(config) !== canonical(service.config ?? {})) violations.push(`${label} completed but service ${service.name} has config ${canonical(config)}, not ${canonical(service.config ?? {})}`);
    if (targets.length !== (service.replicas ?? 1) || new Set(targets).size !== targets.length) violations.push(`${label} completed but service ${service.name} is placed on [${targets.join(',')}], not on ${service.replicas ?? 1} distinct targets`);
    for (const target of targets) {
      const offered = (documents.get(`infrastructure/target/${target}`)?.capabilities as string[] | undefined) ?? [];
      if (!requires.every((c) => offered.includes(c))) violations.push(`${label} completed but placed ${service.name} on ${target}, which does not offer ${requires.join(',')}`);
    }
  }
  for (const { service, target } of instance.placement) {
    if (!asked.some((s) => s.name === service)) violations.push(`${label} completed but its instance places ${service}, which it never asked for, on ${target}`);
  }
  return violations;
}

/** Whether a completed task may have been the last to write `key`. */
function mayHaveWritten(task: EndedTask, key: string, documents: ReadonlyMap<string, Record<string, unknown>>): boolean {
  const p = task.payload;
  switch (task.kind) {
    case 'document':
      return task.action !== 'delete' && ((p.documents as { key: string }[] | undefined) ?? []).some((d) => d.key === key);
    case 'stack':
      return task.action !== 'delete' && key === `stack/instance/${String(p.name)}`;
    case 'snapshot': {
      if (task.action === 'create') return key === `snapshot/documents/${String(p.name)}`;
      // A restore puts back the documents its snapshot holds.
      const held = documents.get(`snapshot/documents/${String(p.name)}`)?.documents as { key: string }[] | undefined;
      return (held ?? []).some((d) => d.key === key);
    }
    default:
      return false;
  }
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

async function environmentResources(pool: pg.Pool, schema: string): Promise<StoredState['resources']> {
  const exists = await pool.query(`select 1 from information_schema.tables where table_schema = $1 and table_name = 'resources'`, [schema]);
  if (exists.rowCount === 0) return [];
  const { rows } = await pool.query<{ target: string; resource: string; spec: unknown }>(`select target, resource, spec from ${pg.escapeIdentifier(schema)}.resources where present`);
  return rows;
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
 * A RollbackFailed that names a retry time is not an end: the broker tries again. The
 * last end of a rollback decides: a late result may reopen a task that had rolled back
 * (the broker rolls back again), and that second rollback may succeed or be given up.
 */
export function outcomeOf(events: readonly { type: string; body?: unknown }[]): TaskOutcome | undefined {
  if (events.some((e) => e.type === 'TaskCompleted')) return 'completed';
  if (!events.some((e) => e.type === 'TaskFailed')) return undefined;
  let outcome: TaskOutcome | undefined;
  for (const event of events) {
    if (event.type === 'RollbackSucceeded') outcome = 'rolled-back';
    else if (event.type === 'RollbackFailed' && (event.body as { retryAt?: unknown } | undefined)?.retryAt == null) outcome = 'rollback-failed';
    else if (event.type === 'RollbackDispatched') outcome = undefined;
  }
  return outcome;
}

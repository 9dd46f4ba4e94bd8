// After a chaos run: every invariant, each computed from what the system left — the log
// (task.events, read committed, straight from Kafka; or the custom broker's
// broker_events, straight from PostgreSQL), the live projection and a replay of the
// log, the datastore and the environment — and each returning its violations.
import pg from 'pg';
import { consistencyReport, outcomeOf } from '../../support/consistency.js';
import type { BrokerSide } from './broker-side.js';
import { cancellationsHeld } from './cancellation.js';
import { endedInTime, endedTasks, exactlyOneOutcome, lateResultTasks, LATENESS_BOUND_MS, type Histories } from './invariants.js';
import { leftovers } from './leftovers.js';
import { shedByTheBroker, wasShed, type SubmittedTask } from './load.js';
import type { ChaosOptions } from './options.js';
import { hostileSummary, hostileViolations, type HostileSubmission } from './hostile.js';
import { poisonKey, type PoisonRecord, type PoisonRequest } from './poison.js';
import { historyMatchesLog, projectedEvents, projectedRows, projectionMatchesLog } from './projection-check.js';
import type { World } from './world.js';

export interface InvariantResult {
  name: string;
  ok: boolean;
  violations: string[];
  detail?: Record<string, unknown>;
}

export interface Gathered {
  world: World;
  /** The broker's log, dead letters and replay. */
  side: BrokerSide;
  tasks: readonly SubmittedTask[];
  histories: Histories;
  poison: PoisonRecord[];
  apiPoison: PoisonRequest[];
  poisonError: string | undefined;
  hostile: readonly HostileSubmission[];
  options: ChaosOptions;
}

const invariant = (name: string, violations: string[], detail?: Record<string, unknown>): InvariantResult => ({ name, ok: violations.length === 0, violations, ...(detail === undefined ? {} : { detail }) });

export async function checkInvariants(g: Gathered): Promise<{ invariants: InvariantResult[]; deadLettered: number }> {
  const { world, tasks, histories } = g;
  const invariants: InvariantResult[] = [];

  const one = exactlyOneOutcome(tasks, histories);
  invariants.push(
    invariant(`1. every submitted task has exactly one terminal outcome in ${g.side.logName}`, one.violations, {
      completed: one.completed,
      rolledBack: one.rolledBack,
      rollbackGivenUp: one.rollbackGivenUp.length,
      rollbackGivenUpAfterReopen: one.rollbackGivenUpAfterReopen.length,
      shedByTheApi: one.shed,
      shedByTheBroker: one.shedByTheBroker,
      rollbackGivenUpTasks: one.rollbackGivenUp.slice(0, 20),
    }),
  );

  const pool = new pg.Pool({ connectionString: world.config.databaseUrl, max: 2 });
  try {
    invariants.push(await projectionInvariant(g, pool));

    const ended = endedTasks(tasks, histories);
    const consistency = await consistencyReport(pool, world.config.databaseSchema, world.config.environmentSchema, ended, { everyWriterListed: true });
    invariants.push(invariant('3. the datastore and the environment hold exactly the effects of completed tasks, and no stray', consistency.violations, { checkedTasks: consistency.checkedTasks, endedTasks: ended.length, documents: consistency.documents }));

    const timely = endedInTime(tasks, histories);
    invariants.push(
      invariant(`4. no task stayed non-terminal longer than its timeout + ${LATENESS_BOUND_MS / 1000} s, counted from its request`, timely.violations, {
        worstMsOverTimeout: timely.worstOverMs,
        reopenedByLateResults: timely.reopened,
        worstReopenedMs: timely.worstReopenedMs,
      }),
    );

    invariants.push(await leftoverInvariant(g, pool));
  } finally {
    await pool.end();
  }

  const cancels = cancellationsHeld(tasks, histories);
  const { violations: cancelViolations, ...cancelDetail } = cancels;
  invariants.push(invariant('cancellation: a cancelled task ends Failed (cancelled) and rolled back, unless it had ended first', cancelViolations, cancelDetail));

  const refused = tasks.flatMap((t) => t.refusals.map((r) => `task ${t.taskId} (${t.scenario} #${t.n}, ${t.route}) submission ${r}`));
  invariants.push(invariant('requests: no submission was refused with anything but "try again later"', refused, { submitted: tasks.length, notAccepted: tasks.filter((t) => !t.accepted).length }));

  const dead = await g.side.deadLettered(g.poison);
  const missing = g.poison.filter((p) => !dead.has(poisonKey(p))).map((p) => `${p.what} on ${p.topic} (offset ${p.offset}) never reached ${g.side.deadLetters}`);
  const not4xx = g.apiPoison.filter((r) => r.status < 400 || r.status > 499).map((r) => `${r.what} got ${r.status}, not a 4xx`);
  const poisonViolations = [...missing, ...not4xx, ...(g.poisonError === undefined ? [] : [g.poisonError]), ...(g.poison.length === 0 ? ['no poison record was sent'] : [])];
  invariants.push(invariant(`poison input: every bad record dead-lettered with its origin (${g.side.deadLetters}), every bad request a 4xx`, poisonViolations, { records: g.poison.length, requests: g.apiPoison.length }));

  const hostile = hostileSummary(g.hostile, histories);
  const hostileFound = [...hostileViolations(g.hostile, histories), ...hostile.violations, ...(g.hostile.length === 0 ? ['no hostile input was sent'] : [])];
  invariants.push(invariant('hostile input: every forbidden origin, oversized or over-nested payload answered as it must, and what was accepted ended', hostileFound, { sent: g.hostile.length }));
  return { invariants, deadLettered: dead.size };
}

/** 2. The replay equals the live projection, the live one is not behind, and each row says what the log says. */
async function projectionInvariant(g: Gathered, pool: pg.Pool): Promise<InvariantResult> {
  const { report: replayed, failure } = await g.side.replay();
  // Read as untrusted JSON: `stackl replay`'s output may lack a field.
  const report = replayed as Partial<typeof replayed> | undefined;
  const violations: string[] = [];
  if (report === undefined) violations.push(failure);
  else {
    violations.push(...(report.differences ?? []).map((d) => `replay differs: ${d.text}`));
    if (report.equal !== true) violations.push('replay says the projections are not equal');
    const behind = Object.entries(report.liveBehind ?? {}).filter(([, n]) => n > 0);
    if (report.liveBehind === undefined) violations.push('the replay report has no liveBehind: cannot tell whether the live projection caught up');
    for (const [partition, events] of behind) violations.push(`the live projection is ${events} events behind the log on ${g.side.logName} partition ${partition}`);
  }
  const rows = await projectedRows(pool, g.world.config.databaseSchema);
  const againstLog = projectionMatchesLog(g.histories, rows, g.side.logName);
  const events = await projectedEvents(pool, g.world.config.databaseSchema);
  const historyAgainstLog = historyMatchesLog(g.histories, events, g.side.logName);
  violations.push(...againstLog, ...historyAgainstLog);
  return invariant('2. the projection equals a replay of the log, is not behind it, and says what the log says', violations, {
    events: report?.events,
    liveBehind: report?.liveBehind,
    rows: rows.length,
    rowsDifferingFromLog: againstLog.length,
    projectedEvents: events.length,
    eventsDifferingFromLog: historyAgainstLog.length,
  });
}

/** 5. Environment leftovers attributed to their task; late results left nothing. */
async function leftoverInvariant(g: Gathered, pool: pg.Pool): Promise<InvariantResult> {
  const ds = pg.escapeIdentifier(g.world.config.databaseSchema);
  const env = pg.escapeIdentifier(g.world.config.environmentSchema);
  const resources = (await pool.query<{ target: string; resource: string; written_by_task: string }>(`select target, resource, written_by_task from ${env}.resources where present`)).rows;
  const documents = (await pool.query<{ key: string; updated_by_task: string }>(`select key, updated_by_task from ${ds}.documents`)).rows;
  const late = new Set(lateResultTasks(g.histories));
  const result = leftovers({
    tasks: g.tasks,
    histories: g.histories,
    resources: resources.map((r) => ({ target: r.target, resource: r.resource, writtenByTask: r.written_by_task })),
    documents: documents.map((d) => ({ key: d.key, updatedByTask: d.updated_by_task })),
    late,
    durationMs: g.options.durationMs,
  });
  const { violations, ...detail } = result;
  return invariant('5. every environment resource belongs to a completed task, and late results after a rollback left nothing behind', violations, detail);
}

/** Tasks with their one answer: an outcome, or the broker's refusal while it shed load. */
export function countEnded(tasks: readonly SubmittedTask[], histories: Histories): number {
  return tasks.filter((t) => {
    const events = histories.get(t.taskId) ?? [];
    return outcomeOf(events) !== undefined || shedByTheBroker(events);
  }).length;
}

/** Tasks the broker refused while it shed load. */
export function countShedByTheBroker(tasks: readonly SubmittedTask[], histories: Histories): number {
  return tasks.filter((t) => shedByTheBroker(histories.get(t.taskId) ?? [])).length;
}

/** Outcomes in byScenario of tasks the system refused under overload: they never ran. */
export const SHED_BY_THE_API = 'shed by the API';
export const SHED_BY_THE_BROKER = 'shed by the broker';

export function byScenario(tasks: readonly SubmittedTask[], histories: Histories): Record<string, Record<string, number>> {
  const table: Record<string, Record<string, number>> = {};
  for (const task of tasks) {
    const events = histories.get(task.taskId) ?? [];
    const outcome = shedByTheBroker(events) ? SHED_BY_THE_BROKER : (outcomeOf(events) ?? (task.accepted ? 'not ended' : wasShed(task) ? SHED_BY_THE_API : 'not accepted'));
    const row = (table[task.scenario] ??= {});
    row[outcome] = (row[outcome] ?? 0) + 1;
  }
  return table;
}

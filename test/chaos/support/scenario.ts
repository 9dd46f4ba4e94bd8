// One chaos run: bring the world up, seed it, submit the mixed load for the run's
// duration while the fault schedule plays and poison arrives, then let everything
// end and gather what the invariants need. Everything random comes from the seed; the
// report starts with the seed and the schedule, so a failing run can be replayed
// (CHAOS_SEED=<seed>).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { createKafka } from '../../../topics/kafka.js';
import { topicNames } from '../../../topics/names.js';
import { checkConsistency, outcomeOf } from '../../support/consistency.js';
import { EventLog } from '../../support/event-log.js';
import { faultSchedule, inject, type Fault, type InjectedFault } from './faults.js';
import { endedInTime, endedTasks, exactlyOneOutcome, lateResultTasks, LATENESS_BOUND_MS } from './invariants.js';
import { Load, type SubmittedTask } from './load.js';
import { deadLettered, poisonApi, poisonKafka, type PoisonRecord, type PoisonRequest } from './poison.js';
import { Random } from './random.js';
import { World, type Channel } from './world.js';

export interface ChaosOptions {
  seed: number;
  channel: Channel;
  durationMs: number;
  tasksPerSecond: number;
  faultEveryMs: number;
  /** How long, after the load stops, every task gets to end. */
  drainMs: number;
  /** Fault kinds left out of the schedule (CHAOS_SKIP_FAULTS). */
  skipFaults: string[];
}

export interface InvariantResult {
  name: string;
  ok: boolean;
  violations: string[];
  detail?: Record<string, unknown>;
}

export interface ChaosReport {
  seed: number;
  replay: string;
  options: ChaosOptions;
  schedule: Fault[];
  injected: InjectedFault[];
  tasks: { submitted: number; byScenario: Record<string, Record<string, number>> };
  roleRestarts: Record<string, { starts: number; unexpectedExits: number }>;
  poison: { kafka: PoisonRecord[]; deadLettered: number; api: PoisonRequest[] };
  invariants: InvariantResult[];
  logs: string;
  elapsedMs: number;
}

export function optionsFromEnv(seed: number, env: Record<string, string | undefined> = process.env): ChaosOptions {
  const number = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
    return value;
  };
  const channel = env.CHAOS_CHANNEL ?? 'redis';
  if (channel !== 'kafka' && channel !== 'redis') throw new Error(`CHAOS_CHANNEL must be kafka or redis, got "${channel}"`);
  const durationMs = number('CHAOS_DURATION_S', 150) * 1000;
  const skipFaults = (env.CHAOS_SKIP_FAULTS ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
  return { seed, channel, durationMs, tasksPerSecond: number('CHAOS_RATE', 8), faultEveryMs: number('CHAOS_FAULT_EVERY_S', 12) * 1000, drainMs: number('CHAOS_DRAIN_S', 240) * 1000, skipFaults };
}

const progress = (message: string): void => {
  process.stderr.write(`chaos: ${message}\n`);
};

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const began = Date.now();
  const random = new Random(options.seed);
  const schedule = faultSchedule(random, options.channel, 15_000, options.durationMs - 10_000, options.faultEveryMs, new Set(options.skipFaults));
  const skipped = options.skipFaults.length === 0 ? '' : ` CHAOS_SKIP_FAULTS=${options.skipFaults.join(',')}`;
  const replay = `CHAOS_SEED=${options.seed} CHAOS_CHANNEL=${options.channel} CHAOS_DURATION_S=${options.durationMs / 1000} CHAOS_RATE=${options.tasksPerSecond} CHAOS_FAULT_EVERY_S=${options.faultEveryMs / 1000}${skipped} npm run test:chaos`;
  progress(`seed ${options.seed}; replay with: ${replay}`);
  progress(`fault schedule: ${schedule.map((f) => `${(f.atMs / 1000).toFixed(0)}s ${f.kind}${f.kind.includes('worker') || f.kind.includes('broker') ? `#${f.instance}` : ''}`).join(', ')}`);

  const world = new World(options.channel);
  const report: Partial<ChaosReport> = { seed: options.seed, replay, options, schedule };
  let keepLogs = true;
  try {
    await world.start(progress);
    const kafka = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'chaos' });
    const topics = topicNames(world.config.topicPrefix);
    const client = new KafkaBrokerClient(kafka, topics.requests, world.config.partitions);
    const log = new EventLog(kafka, topics.events);
    await log.start();
    const load = new Load(random, client, world.apiAddress);
    await load.seed((taskId) => outcomeOf(log.byTask.get(taskId) ?? []));

    // Load and faults side by side for the run's duration.
    const loadStart = Date.now();
    const injected: InjectedFault[] = [];
    let poison: PoisonRecord[] = [];
    let apiPoison: PoisonRequest[] = [];
    let poisonError: string | undefined;
    const faults = (async () => {
      for (const fault of schedule) {
        const wait = loadStart + fault.atMs - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const startedAtMs = Date.now() - loadStart;
        progress(`${(startedAtMs / 1000).toFixed(0)}s: ${fault.kind}${fault.kind.endsWith('worker') || fault.kind === 'kill-broker' ? ` #${fault.instance}` : ''}${fault.kind === 'restart-kafka' ? (fault.hard ? ' (kill -9)' : ' (clean stop)') : ''}`);
        const entry: InjectedFault = { ...fault, startedAtMs, tookMs: 0 };
        try {
          await inject(world, fault);
        } catch (error) {
          entry.error = (error as Error).message;
          progress(`fault ${fault.kind} failed to inject: ${entry.error}`);
        }
        entry.tookMs = Date.now() - loadStart - startedAtMs;
        injected.push(entry);
      }
    })();
    const poisoning = (async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.floor(options.durationMs / 3)));
      progress('sending poison to every input topic and endpoint');
      try {
        poison = await poisonKafka(kafka, topics, world.config.partitions, options.channel);
        apiPoison = await poisonApi(world.apiAddress);
      } catch (error) {
        poisonError = `sending poison failed: ${(error as Error).message}`;
      }
    })();
    const interval = 100;
    let due = 0;
    while (Date.now() - loadStart < options.durationMs) {
      due += (options.tasksPerSecond * interval) / 1000;
      for (; due >= 1; due -= 1) load.next();
      await new Promise((resolve) => setTimeout(resolve, interval));
      const elapsed = Date.now() - loadStart;
      if (elapsed % 15_000 < interval) progress(`${(elapsed / 1000).toFixed(0)}s: ${load.tasks.length} tasks submitted, ${countEnded(load.tasks, log)} ended`);
    }
    await Promise.all([faults, poisoning]);
    await load.settled();
    progress(`load done: ${load.tasks.length} tasks; draining`);

    // Every role back (the supervisor restarts crashed ones), then let every task end.
    const drainUntil = Date.now() + options.drainMs;
    while (countEnded(load.tasks, log) < load.tasks.filter((t) => t.accepted).length && Date.now() < drainUntil) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      if ((drainUntil - Date.now()) % 15_000 < 1_000) progress(`draining: ${countEnded(load.tasks, log)}/${load.tasks.length} ended`);
    }
    // Late work (paused workers, requeued orders) gets a moment to arrive before the state is judged.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    progress(`drained: ${countEnded(load.tasks, log)}/${load.tasks.length} ended; checking invariants`);

    const histories = log.byTask;
    const invariants: InvariantResult[] = [];
    const one = exactlyOneOutcome(load.tasks, histories);
    const forOperator = load.tasks.filter((t) => outcomeOf(histories.get(t.taskId) ?? []) === 'rollback-failed').map((t) => t.taskId);
    invariants.push({ name: '1. every submitted task has exactly one terminal outcome in task.events', ok: one.length === 0, violations: one, detail: { rollbackFailedListedForOperator: forOperator.length } });

    const replayRun = world.cli('replay');
    const replayReport = parseJson(replayRun.stdout) as { equal?: boolean; events?: number; differences?: { text: string }[] } | undefined;
    const replayOk = replayRun.status === 0 && replayReport?.equal === true;
    invariants.push({
      name: '2. the projection equals a replay of the log',
      ok: replayOk,
      violations: replayOk ? [] : [...(replayReport?.differences ?? []).map((d) => d.text), ...(replayReport === undefined ? [`replay exited ${replayRun.status}: ${replayRun.stderr.slice(-2000)}`] : [])],
      detail: { events: replayReport?.events },
    });

    const pool = new pg.Pool({ connectionString: world.config.databaseUrl, max: 2 });
    const ended = endedTasks(load.tasks, histories);
    const consistency = await checkConsistency(pool, world.config.databaseSchema, world.config.environmentSchema, ended);
    invariants.push({ name: '3. the datastore and the environment hold exactly the effects of completed tasks', ok: consistency.length === 0, violations: consistency, detail: { checkedTasks: ended.length } });

    const timely = endedInTime(load.tasks, histories);
    invariants.push({ name: `4. no task stayed non-terminal longer than its timeout + ${LATENESS_BOUND_MS / 1000} s`, ok: timely.violations.length === 0, violations: timely.violations, detail: { worstMsOverTimeout: timely.worstOverMs, reopenedByLateResults: timely.reopened, worstReopenedMs: timely.worstReopenedMs } });

    const late = lateResultTasks(histories);
    const lateSet = new Set(late);
    const lateLeft = consistency.filter((v) => [...lateSet].some((id) => v.includes(id)));
    const lateRolledBack = late.filter((id) => outcomeOf(histories.get(id) ?? []) === 'rolled-back').length;
    invariants.push({ name: '5. late results after a rollback left nothing behind', ok: lateLeft.length === 0, violations: lateLeft, detail: { tasksWithLateResults: late.length, ofWhichRolledBack: lateRolledBack } });

    const dead = await deadLettered(kafka, topics.dlq, poison);
    const missing = poison.filter((p) => !dead.has(`${p.topic}/${p.partition}/${p.offset}`)).map((p) => `${p.what} on ${p.topic} (offset ${p.offset}) never reached the dead-letter topic`);
    const not4xx = apiPoison.filter((r) => r.status < 400 || r.status > 499).map((r) => `${r.what} got ${r.status}, not a 4xx`);
    invariants.push({ name: 'poison input: every bad record dead-lettered with its origin, every bad request a 4xx', ok: missing.length + not4xx.length === 0 && poison.length > 0, violations: [...missing, ...not4xx, ...(poisonError === undefined ? [] : [poisonError])] });

    await pool.end();
    await Promise.all([log.stop(), client.close()]);
    report.injected = injected;
    report.tasks = { submitted: load.tasks.length, byScenario: byScenario(load.tasks, log) };
    report.poison = { kafka: poison, deadLettered: dead.size, api: apiPoison };
    report.invariants = invariants;
    keepLogs = invariants.some((i) => !i.ok);
  } finally {
    report.roleRestarts = Object.fromEntries(world.roles.map((r) => [r.name, { starts: r.starts, unexpectedExits: r.unexpectedExits }]));
    report.logs = keepLogs ? world.logDir : '(removed: the run passed)';
    await world.stop();
    if (!keepLogs) world.discard();
  }
  report.elapsedMs = Date.now() - began;
  const full = report as ChaosReport;
  mkdirSync('.stackl/chaos', { recursive: true });
  writeFileSync(join('.stackl/chaos', `run-${options.seed}-${began}.json`), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

function countEnded(tasks: readonly SubmittedTask[], log: EventLog): number {
  return tasks.filter((t) => outcomeOf(log.byTask.get(t.taskId) ?? []) !== undefined).length;
}

function byScenario(tasks: readonly SubmittedTask[], log: EventLog): Record<string, Record<string, number>> {
  const table: Record<string, Record<string, number>> = {};
  for (const task of tasks) {
    const outcome = outcomeOf(log.byTask.get(task.taskId) ?? []) ?? (task.accepted ? 'not ended' : 'not accepted');
    const row = (table[task.scenario] ??= {});
    row[outcome] = (row[outcome] ?? 0) + 1;
  }
  return table;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

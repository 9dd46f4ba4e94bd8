// One chaos run: bring the world up, seed it, submit the mixed load for the run's
// duration while the fault schedule plays and poison arrives, then let everything
// end and gather what the invariants need. Everything random comes from the seed; the
// report starts with the seed and the schedule, so a failing run can be replayed
// (CHAOS_SEED=<seed>).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topicNames } from '../../../topics/names.js';
import { outcomeOf } from '../../support/consistency.js';
import { brokerSide, type BrokerSide } from './broker-side.js';
import { byScenario, checkInvariants, countEnded, countShedByTheBroker, type InvariantResult } from './checks.js';
import { describeFault, faultKindsFor, faultSchedule, inject, type Fault, type FaultKind, type InjectedFault } from './faults.js';
import { Load } from './load.js';
import { FAULTS_FROM_MS, FAULTS_UNTIL_BEFORE_END_MS, replayCommand, type ChaosOptions } from './options.js';
import { hostileApiRound, hostileSummary, type HostileSubmission } from './hostile.js';
import { poisonApi, type PoisonRecord, type PoisonRequest } from './poison.js';
import { loadAverage, provenance, type Provenance } from '../../../bench/provenance.js';
import { Random } from './random.js';
import { World } from './world.js';

export interface ChaosReport {
  seed: number;
  /** Commit, versions and settings of the run (bench/provenance.ts), so its figures can be traced. */
  provenance: Provenance;
  replay: string;
  options: ChaosOptions;
  /** Which broker decided the tasks (CHAOS_BROKER). */
  broker: ChaosOptions['broker'];
  /** Injections of a Kafka run this run leaves out because its broker has nothing for them to break, and why. */
  leftOut: string[];
  schedule: Fault[];
  /** Every kind a run on this channel and broker must cover, and those CHAOS_SKIP_FAULTS left out. */
  kinds: { required: FaultKind[]; skipped: string[] };
  injected: InjectedFault[];
  tasks: { submitted: number; byScenario: Record<string, Record<string, number>> };
  roleRestarts: Record<string, { starts: number; unexpectedExits: number }>;
  proxies: Record<string, unknown>;
  /** Poison records on the broker's inputs (Kafka topics, or the custom broker's inbox), how many were dead-lettered, and the bad requests to the API. */
  poison: { records: PoisonRecord[]; deadLettered: number; api: PoisonRequest[] };
  /** Hostile submissions sent, by kind (route and shape), and how those meant to complete ended. */
  hostile: { sent: number; rounds: number; byKind: Record<string, { sent: number; completed: number; timedOut: number }> };
  invariants: InvariantResult[];
  logs: string;
  /** How busy the machine and the queues were: the highest one-minute load average and run orders queued seen at a progress line. */
  pressure: { loadAverageHighest: number; loadAverageAtEnd: number; ordersQueuedHighest: number };
  elapsedMs: number;
}

const progress = (message: string): void => {
  process.stderr.write(`chaos: ${message}\n`);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A round of hostile input this often, the first soon after the load starts. */
const HOSTILE_EVERY_MS = 30_000;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const began = Date.now();
  const random = new Random(options.seed);
  const schedule = faultSchedule(random, options.channel, FAULTS_FROM_MS, options.durationMs - FAULTS_UNTIL_BEFORE_END_MS, options.faultEveryMs, new Set(options.skipFaults), options.broker);
  const replay = replayCommand(options);
  progress(`seed ${options.seed}, ${options.broker} broker, ${options.channel} channel; replay with: ${replay}`);
  progress(`fault schedule: ${schedule.map((f) => `${(f.atMs / 1000).toFixed(0)}s ${describeFault(f)}`).join(', ')}`);

  const world = new World(options.channel, options.broker);
  const report: Partial<ChaosReport> = {
    seed: options.seed,
    provenance: await provenance(),
    replay,
    options,
    broker: options.broker,
    leftOut: [],
    schedule,
    kinds: { required: faultKindsFor(options.channel, options.broker), skipped: options.skipFaults },
  };
  const pressure = { loadAverageHighest: loadAverage(), ordersQueuedHighest: 0 };
  let keepLogs = true;
  let side: BrokerSide | undefined;
  try {
    await world.start(progress);
    // The test's own reader, poison sender and checkers go to Kafka (or PostgreSQL)
    // directly; the load is a client like any other, so it goes through the proxy the
    // roles use (broker-side.ts).
    side = await brokerSide(world);
    report.leftOut = side.leftOut;
    const topics = topicNames(world.config.topicPrefix);
    const log = { byTask: side.histories };
    const load = new Load(random, side.direct, world.apiAddress);
    await load.seed((taskId) => outcomeOf(log.byTask.get(taskId) ?? []));

    // Load and faults side by side for the run's duration.
    const loadStart = Date.now();
    const injected: InjectedFault[] = [];
    report.injected = injected;
    let poison: PoisonRecord[] = [];
    let apiPoison: PoisonRequest[] = [];
    let poisonError: string | undefined;
    const faults = (async () => {
      for (const fault of schedule) {
        const wait = loadStart + fault.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        injected.push(await injectAndRecover(world, fault, Date.now() - loadStart));
      }
    })();
    const broker = side;
    const poisoning = (async () => {
      await sleep(Math.floor(options.durationMs / 3));
      progress(`sending poison to every input ${broker.direct.route === 'kafka' ? 'topic' : 'of the inbox'} and endpoint`);
      try {
        poison = await broker.poison();
        apiPoison = await poisonApi(world.apiAddress);
      } catch (error) {
        poisonError = `sending poison failed: ${(error as Error).message}`;
      }
    })();
    const hostile: HostileSubmission[] = [];
    let rounds = 0;
    const hostility = (async () => {
      for (let at = 5_000; at < options.durationMs; at += HOSTILE_EVERY_MS) {
        const wait = loadStart + at - Date.now();
        if (wait > 0) await sleep(wait);
        hostile.push(...(await hostileApiRound(world.apiAddress, world.config, topics)), ...(await broker.hostileRound()));
        rounds += 1;
      }
    })();
    // How deep the queues are, read beside the load's own counts: a growing order queue is
    // how overload shows before any invariant fails.
    const queues = async (): Promise<string> => {
      const reading = await broker.backlog();
      pressure.ordersQueuedHighest = Math.max(pressure.ordersQueuedHighest, reading?.orders ?? 0);
      pressure.loadAverageHighest = Math.max(pressure.loadAverageHighest, loadAverage());
      const waiting = load.tasks.filter((t) => !t.accepted).length;
      return `${waiting} awaiting acceptance, ${reading === undefined ? '?' : `${reading.requests} requests and ${reading.orders} orders`} queued`;
    };
    // Open loop by the clock: every tick creates the tasks due since the start, so a
    // test process slowed by the load it makes still offers the whole rate (counting
    // ticks instead offered ~42 of 55 tasks/s once the machine was busy).
    const interval = 100;
    let created = 0;
    let reportAt = 15_000;
    while (Date.now() - loadStart < options.durationMs) {
      const due = Math.floor((options.tasksPerSecond * (Date.now() - loadStart)) / 1000);
      for (; created < due; created += 1) load.next();
      await sleep(interval);
      const elapsed = Date.now() - loadStart;
      if (elapsed >= reportAt) {
        reportAt += 15_000;
        const counts = `${(elapsed / 1000).toFixed(0)}s: ${load.tasks.length} tasks submitted, ${countEnded(load.tasks, log.byTask)} ended (${countShedByTheBroker(load.tasks, log.byTask)} of them shed by the broker)`;
        // Not awaited: a reading that waits out a Kafka restart must not hold the load back.
        void queues().then((q) => progress(`${counts}; ${q}`));
      }
    }
    progress(`load done: ${load.tasks.length} tasks; waiting for the rest of the fault schedule`);
    await broker.endBacklog();
    await Promise.all([faults, poisoning, hostility]);
    await load.settled();
    progress(`faults done (${injected.length}); draining`);

    // Every role back (the supervisor restarts crashed ones), then let every task end.
    const drainUntil = Date.now() + options.drainMs;
    const hostileToEnd = hostile.filter((h) => h.expected.answer !== 'refused' && h.taskId !== undefined && h.error === undefined).map((h) => h.taskId as string);
    const hostileEnded = () => hostileToEnd.every((id) => outcomeOf(log.byTask.get(id) ?? []) !== undefined || (log.byTask.get(id) ?? []).some((e) => e.type === 'TaskRejected'));
    while ((countEnded(load.tasks, log.byTask) < load.tasks.filter((t) => t.accepted).length || !hostileEnded()) && Date.now() < drainUntil) {
      await sleep(1_000);
      if ((drainUntil - Date.now()) % 15_000 < 1_000) progress(`draining: ${countEnded(load.tasks, log.byTask)}/${load.tasks.length} ended`);
    }
    // Late work (paused workers, requeued orders) gets a moment to arrive before the state is judged.
    await sleep(15_000);
    // A projector that was restarted late may still be catching up (its group waits for a
    // dead member's session to expire): give it a bounded time, so invariant 2 reports a
    // projection that is stuck, not one that is merely behind for a moment.
    const caughtUp = await broker.projectionCaughtUp(PROJECTION_CATCH_UP_MS);
    progress(caughtUp ? 'the projection has caught up with the log' : `the projection did not catch up within ${PROJECTION_CATCH_UP_MS / 1000} s`);
    progress(`drained: ${countEnded(load.tasks, log.byTask)}/${load.tasks.length} ended; checking invariants`);

    const checked = await checkInvariants({ world, side: broker, tasks: load.tasks, histories: log.byTask, poison, apiPoison, poisonError, hostile, options });
    report.tasks = { submitted: load.tasks.length, byScenario: byScenario(load.tasks, log.byTask) };
    report.poison = { records: poison, deadLettered: checked.deadLettered, api: apiPoison };
    report.hostile = { sent: hostile.length, rounds, byKind: hostileSummary(hostile, log.byTask).byKind };
    report.invariants = checked.invariants;
    keepLogs = options.keepLogs || checked.invariants.some((i) => !i.ok) || injected.some((f) => !f.injected || f.recoveryError !== undefined);
  } finally {
    await side?.close().catch(() => {});
    report.roleRestarts = Object.fromEntries(world.roles.map((r) => [r.name, { starts: r.starts, unexpectedExits: r.unexpectedExits }]));
    report.proxies = { kafka: world.kafkaProxy?.stats(), postgres: world.postgresProxy?.stats() };
    report.logs = keepLogs ? world.logDir : '(removed: the run passed; CHAOS_KEEP_LOGS=1 keeps them)';
    await world.stop();
    if (!keepLogs) world.discard();
  }
  report.pressure = { ...pressure, loadAverageAtEnd: loadAverage() };
  report.elapsedMs = Date.now() - began;
  const full = report as ChaosReport;
  mkdirSync('.stackl/chaos', { recursive: true });
  writeFileSync(join('.stackl/chaos', `run-${options.seed}-${began}.json`), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

const PROJECTION_CATCH_UP_MS = 120_000;

/** Injects one fault, then waits until the world is whole again; records both. */
async function injectAndRecover(world: World, fault: Fault, startedAtMs: number): Promise<InjectedFault> {
  progress(`${(startedAtMs / 1000).toFixed(0)}s: ${describeFault(fault)}`);
  const began = Date.now();
  const entry: InjectedFault = { ...fault, startedAtMs, tookMs: 0, injected: false, what: '' };
  try {
    const result = await inject(world, fault);
    entry.injected = result.injected;
    entry.what = result.injected ? result.what : result.reason;
  } catch (error) {
    entry.what = `failed to inject: ${(error as Error).message}`;
  }
  entry.tookMs = Date.now() - began;
  if (!entry.injected) progress(`fault ${fault.kind} NOT injected: ${entry.what}`);
  try {
    entry.recoveredInMs = await world.whole();
  } catch (error) {
    entry.recoveryError = (error as Error).message;
    progress(`after ${fault.kind}: ${entry.recoveryError}`);
  }
  return entry;
}

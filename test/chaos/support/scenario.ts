// One chaos run: bring the world up, seed it, submit the mixed load for the run's
// duration while the fault schedule plays and poison arrives, then let everything
// end and gather what the invariants need. Everything random comes from the seed; the
// report starts with the seed and the schedule, so a failing run can be replayed
// (CHAOS_SEED=<seed>).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { createKafka } from '../../../topics/kafka.js';
import { topicNames } from '../../../topics/names.js';
import { outcomeOf } from '../../support/consistency.js';
import { EventLog } from '../../support/event-log.js';
import { byScenario, checkInvariants, countEnded, type InvariantResult } from './checks.js';
import { describeFault, faultKindsFor, faultSchedule, inject, type Fault, type FaultKind, type InjectedFault } from './faults.js';
import { Load } from './load.js';
import { FAULTS_FROM_MS, FAULTS_UNTIL_BEFORE_END_MS, replayCommand, type ChaosOptions } from './options.js';
import { poisonApi, poisonKafka, type PoisonRecord, type PoisonRequest } from './poison.js';
import { Random } from './random.js';
import { World } from './world.js';

export interface ChaosReport {
  seed: number;
  replay: string;
  options: ChaosOptions;
  schedule: Fault[];
  /** Every kind a run on this channel must cover, and those CHAOS_SKIP_FAULTS left out. */
  kinds: { required: FaultKind[]; skipped: string[] };
  injected: InjectedFault[];
  tasks: { submitted: number; byScenario: Record<string, Record<string, number>> };
  roleRestarts: Record<string, { starts: number; unexpectedExits: number }>;
  proxies: Record<string, unknown>;
  poison: { kafka: PoisonRecord[]; deadLettered: number; api: PoisonRequest[] };
  invariants: InvariantResult[];
  logs: string;
  elapsedMs: number;
}

const progress = (message: string): void => {
  process.stderr.write(`chaos: ${message}\n`);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const began = Date.now();
  const random = new Random(options.seed);
  const schedule = faultSchedule(random, options.channel, FAULTS_FROM_MS, options.durationMs - FAULTS_UNTIL_BEFORE_END_MS, options.faultEveryMs, new Set(options.skipFaults));
  const replay = replayCommand(options);
  progress(`seed ${options.seed}, ${options.channel} channel; replay with: ${replay}`);
  progress(`fault schedule: ${schedule.map((f) => `${(f.atMs / 1000).toFixed(0)}s ${describeFault(f)}`).join(', ')}`);

  const world = new World(options.channel);
  const report: Partial<ChaosReport> = { seed: options.seed, replay, options, schedule, kinds: { required: faultKindsFor(options.channel), skipped: options.skipFaults } };
  let keepLogs = true;
  try {
    await world.start(progress);
    // The test's own reader, poison sender and checkers go to Kafka directly; the load is
    // a producer like any other, so it goes through the proxy the roles use.
    const kafka = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'chaos' });
    const loadKafka = createKafka({ brokers: world.proxiedKafkaBrokers, clientId: 'chaos-load' });
    const topics = topicNames(world.config.topicPrefix);
    const client = new KafkaBrokerClient(loadKafka, topics.requests, world.config.partitions);
    const log = new EventLog(kafka, topics.events);
    await log.start();
    const load = new Load(random, client, world.apiAddress);
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
    const poisoning = (async () => {
      await sleep(Math.floor(options.durationMs / 3));
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
      await sleep(interval);
      const elapsed = Date.now() - loadStart;
      if (elapsed % 15_000 < interval) progress(`${(elapsed / 1000).toFixed(0)}s: ${load.tasks.length} tasks submitted, ${countEnded(load.tasks, log.byTask)} ended`);
    }
    progress(`load done: ${load.tasks.length} tasks; waiting for the rest of the fault schedule`);
    await Promise.all([faults, poisoning]);
    await load.settled();
    progress(`faults done (${injected.length}); draining`);

    // Every role back (the supervisor restarts crashed ones), then let every task end.
    const drainUntil = Date.now() + options.drainMs;
    while (countEnded(load.tasks, log.byTask) < load.tasks.filter((t) => t.accepted).length && Date.now() < drainUntil) {
      await sleep(1_000);
      if ((drainUntil - Date.now()) % 15_000 < 1_000) progress(`draining: ${countEnded(load.tasks, log.byTask)}/${load.tasks.length} ended`);
    }
    // Late work (paused workers, requeued orders) gets a moment to arrive before the state is judged.
    await sleep(15_000);
    progress(`drained: ${countEnded(load.tasks, log.byTask)}/${load.tasks.length} ended; checking invariants`);

    const checked = await checkInvariants({ world, kafka, topics, tasks: load.tasks, histories: log.byTask, poison, apiPoison, poisonError, options });
    await Promise.all([log.stop(), client.close()]);
    report.tasks = { submitted: load.tasks.length, byScenario: byScenario(load.tasks, log.byTask) };
    report.poison = { kafka: poison, deadLettered: checked.deadLettered, api: apiPoison };
    report.invariants = checked.invariants;
    keepLogs = options.keepLogs || checked.invariants.some((i) => !i.ok) || injected.some((f) => !f.injected || f.recoveryError !== undefined);
  } finally {
    report.roleRestarts = Object.fromEntries(world.roles.map((r) => [r.name, { starts: r.starts, unexpectedExits: r.unexpectedExits }]));
    report.proxies = { kafka: world.kafkaProxy?.stats(), postgres: world.postgresProxy?.stats() };
    report.logs = keepLogs ? world.logDir : '(removed: the run passed; CHAOS_KEEP_LOGS=1 keeps them)';
    await world.stop();
    if (!keepLogs) world.discard();
  }
  report.elapsedMs = Date.now() - began;
  const full = report as ChaosReport;
  mkdirSync('.stackl/chaos', { recursive: true });
  writeFileSync(join('.stackl/chaos', `run-${options.seed}-${began}.json`), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

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

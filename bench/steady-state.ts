// steady-state (issue 6): probe tasks that succeed, submitted at a fixed rate rather than
// in a burst, through broker → channel → worker → broker → projector, all in this
// process (as probe-e2e); the broker and channel are BENCH_BROKER and BENCH_CHANNEL
// (bench-stack.ts; default the Kafka broker on the kafka channel, as in earlier runs). For each rate of BENCH_RATES (default 500,1000,2000 tasks/s),
// BENCH_STEADY_SECONDS (default 60) of paced submission on fresh topics and schema;
// latency = submit → Completed visible in PostgreSQL. Target: p99 < 100 ms at 1,000/s.
// About 3.5 minutes a run at the defaults, so it honours BENCH_RUNS.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PROJECTOR_NAME, startProjector } from '../processors/projection/index.js';
import { createKafka } from '../topics/kafka.js';
import { topicNames } from '../topics/names.js';
import { benchConfig, cleanUpRun, stackChoice, stackChoiceFromEnv, startBrokerSide, statusCounts, submitterFor, type StackChoice, type Submitter } from './bench-stack.js';
import { PROBE_WORKER_CONCURRENCY } from './probe-e2e.js';
import { ProjectionWatch } from './projection-watch.js';
import { repeatRuns, runsFromEnv } from './repeat.js';
import { envInt, loadAverage1m, progress, rssMiB, runStamp, summarize, waitUntil } from './stats.js';

const TARGET = { ratePerSecond: 1000, p99Ms: 100 };
/** Submissions leave every SLICE_MS: paced, never a burst. */
const SLICE_MS = 10;
/** The watch polls projection_offsets this often: the resolution of "visible" (≤ 10 ms late). */
const WATCH_POLL_MS = 10;
/** Tasks per latency window in the report (by submit time), to show drift over the run. */
const WINDOW_MS = 10_000;
const PROBE = { kind: 'probe', action: 'run', payload: { outcome: 'succeed' } };

interface Paced {
  /** Per task, when the schedule said it should leave (not when its slice did). */
  submittedAt: Map<string, number>;
  /** Per slice: how far behind its schedule the slice's first task left. */
  scheduleLagMs: number[];
  began: number;
  endedAt: number;
}

/** Every SLICE_MS, sends in one produce request what the rate says is due by now. */
async function pace(client: Submitter, rate: number, durationMs: number): Promise<Paced> {
  const submittedAt = new Map<string, number>();
  const scheduleLagMs: number[] = [];
  const total = Math.round((rate * durationMs) / 1000);
  const began = Date.now();
  let sent = 0;
  while (sent < total) {
    const now = Date.now();
    // Task i is due at began + i / rate: the first leaves at once, not one interval late.
    const due = Math.min(total, Math.floor(((now - began) * rate) / 1000) + 1) - sent;
    if (due > 0) {
      scheduleLagMs.push(now - (began + (sent * 1000) / rate));
      // Each task's clock starts at its place in the schedule, not when the slice left:
      // a submitter that fell behind must not hide the wait it caused (coordinated omission).
      const receipts = await client.submitMany(Array.from({ length: due }, () => PROBE));
      receipts.forEach((receipt, i) => submittedAt.set(receipt.taskId, began + ((sent + i) * 1000) / rate));
      sent += due;
    }
    // The next slice boundary; when a send overran it, the next slice carries the difference.
    await sleep(Math.max(0, began + (Math.floor((Date.now() - began) / SLICE_MS) + 1) * SLICE_MS - Date.now()));
  }
  return { submittedAt, scheduleLagMs, began, endedAt: Date.now() };
}

type Summary = ReturnType<typeof summarize>;

/**
 * Where the latency goes, from the projected events' times (each is the broker's clock
 * when it decided): submit → TaskSubmitted decided → AttemptStarted decided (dispatch,
 * worker, result back) → TaskCompleted decided → row visible (commit, projector, watch).
 */
async function stages(pool: pg.Pool, schema: string, submittedAt: Map<string, number>, visibleAt: Map<string, number>, from: number): Promise<Record<string, Summary>> {
  const { rows } = await pool.query<{ task_id: string; type: string; ms: string }>(
    `select task_id, type, (extract(epoch from time) * 1000)::bigint as ms from ${pg.escapeIdentifier(schema)}.task_events
      where type in ('TaskSubmitted', 'AttemptStarted', 'TaskCompleted')`,
  );
  const times = new Map<string, Record<string, number>>();
  for (const row of rows) times.set(row.task_id, { ...times.get(row.task_id), [row.type]: Number(row.ms) });
  const spans: Record<string, number[]> = { toSubmitted: [], toStarted: [], toCompleted: [], toVisible: [] };
  for (const [id, sent] of submittedAt) {
    const t = times.get(id);
    const visible = visibleAt.get(id);
    if (sent < from || t?.TaskSubmitted === undefined || t.AttemptStarted === undefined || t.TaskCompleted === undefined || visible === undefined) continue;
    spans.toSubmitted?.push(t.TaskSubmitted - sent);
    spans.toStarted?.push(t.AttemptStarted - t.TaskSubmitted);
    spans.toCompleted?.push(t.TaskCompleted - t.AttemptStarted);
    spans.toVisible?.push(visible - t.TaskCompleted);
  }
  return Object.fromEntries(Object.entries(spans).map(([name, values]) => [name, summarize(values)]));
}

export interface SteadyRateResult {
  broker: StackChoice['broker'];
  channel: StackChoice['channel'];
  ratePerSecond: number;
  seconds: number;
  warmupSeconds: number;
  submitted: number;
  achievedRatePerSecond: number;
  /** Tasks submitted after the warm-up: the latency figures are theirs. */
  submitToVisibleMs: Summary;
  /** The same latency split at the broker's decisions (see stages). */
  stagesMs: Record<string, Summary>;
  scheduleLagMs: Summary;
  /** Completed rows that became visible per second between the warm-up and the end of submission. */
  visiblePerSecond: number;
  backlogAtEnd: number;
  drainMs: number;
  keptUp: boolean;
  windows: { fromSecond: number; tasks: number; p50Ms: number; p99Ms: number }[];
  unresolved: number;
  rssMiB: number;
  loadAverage1m: number;
}

export async function runSteadyRate(rate: number, seconds: number, warmupSeconds: number, concurrency: number, choice: StackChoice = stackChoice('kafka')): Promise<SteadyRateResult> {
  const stamp = runStamp();
  const config = benchConfig(choice, `bench.steady.${stamp}.`, `bench_steady_${stamp}`);
  const topics = topicNames(config.topicPrefix);
  const kafka = createKafka(config, 'bench');
  // A processor that stops for good (e.g. the shared dev Kafka fenced it) fails the run now, not after the wait.
  let fatal: unknown;
  const onFatal = (error: unknown): void => {
    fatal = error;
  };
  try {
    const roles = await startBrokerSide(choice, config, concurrency, onFatal);
    const projector = await startProjector(config, { clientId: 'bench-projector', onFatal });
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
    // Counting Completed rows is only how we know to stop; every 50 polls keeps it off the hot path.
    const watch = new ProjectionWatch(pool, { schema: config.databaseSchema, topic: topics.events, projector: PROJECTOR_NAME }, config.partitions, WATCH_POLL_MS, 50);
    watch.start();
    const client = submitterFor(choice, config, kafka);
    // One task before the clock connects the producer; it belongs to the warm-up.
    const [first] = await client.submitMany([PROBE]);
    const warmAt = Date.now();

    progress(`steady-state: ${rate} tasks/s for ${warmupSeconds} + ${seconds} s (broker ${choice.broker}, channel ${choice.channel})`);
    const paced = await pace(client, rate, (warmupSeconds + seconds) * 1000);
    if (first) paced.submittedAt.set(first.taskId, warmAt);
    const submitted = paced.submittedAt.size;
    await waitUntil(
      () => {
        if (fatal !== undefined) throw new Error(`a processor stopped: ${(fatal as Error).message ?? String(fatal)}`);
        return watch.completed >= submitted;
      },
      600_000,
      `all ${submitted} tasks to read Completed`,
    ).catch(async (error: unknown) => {
      progress(`tasks by status when the run gave up: ${JSON.stringify(await statusCounts(config))}`);
      throw error;
    });
    await watch.stop();
    const { visibleAt, unresolved } = await watch.visibility(paced.submittedAt);
    const measuredFrom = paced.began + warmupSeconds * 1000;
    const stagesMs = await stages(pool, config.databaseSchema, paced.submittedAt, visibleAt, measuredFrom);
    const rss = rssMiB();
    await client.close();
    await roles.stop();
    await projector.stop();
    await pool.end();

    const latencies: number[] = [];
    const windows = new Map<number, number[]>();
    let backlogAtEnd = 0;
    let visibleInWindow = 0;
    let lastVisible = 0;
    for (const [id, sentAt] of paced.submittedAt) {
      const at = visibleAt.get(id) ?? Number.POSITIVE_INFINITY;
      if (at > paced.endedAt) backlogAtEnd += 1;
      if (at >= measuredFrom && at <= paced.endedAt) visibleInWindow += 1;
      if (Number.isFinite(at)) lastVisible = Math.max(lastVisible, at);
      if (sentAt < measuredFrom || !Number.isFinite(at)) continue;
      latencies.push(at - sentAt);
      const window = Math.floor((sentAt - paced.began) / WINDOW_MS);
      const list = windows.get(window) ?? [];
      list.push(at - sentAt);
      windows.set(window, list);
    }
    const measuredMs = paced.endedAt - measuredFrom;
    return {
      broker: choice.broker,
      channel: choice.channel,
      ratePerSecond: rate,
      seconds,
      warmupSeconds,
      submitted,
      achievedRatePerSecond: Math.round(((submitted - 1) / (paced.endedAt - paced.began)) * 1000),
      submitToVisibleMs: summarize(latencies),
      stagesMs,
      scheduleLagMs: summarize(paced.scheduleLagMs),
      visiblePerSecond: Math.round((visibleInWindow / measuredMs) * 1000),
      backlogAtEnd,
      drainMs: Math.max(0, lastVisible - paced.endedAt),
      // Kept up: at most one second of submissions still on its way when submission stopped.
      keptUp: backlogAtEnd <= rate,
      windows: [...windows].sort(([a], [b]) => a - b).map(([w, values]) => {
        const s = summarize(values);
        return { fromSecond: (w * WINDOW_MS) / 1000, tasks: s.count, p50Ms: s.p50, p99Ms: s.p99 };
      }),
      unresolved,
      rssMiB: rss,
      loadAverage1m: loadAverage1m(),
    };
  } finally {
    await cleanUpRun(choice, kafka, config, true);
  }
}

function ratesFromEnv(fallback: string): number[] {
  const rates = (process.env.BENCH_RATES ?? fallback).split(',').map((r) => Number(r.trim()));
  if (rates.some((r) => !Number.isInteger(r) || r < 1)) throw new Error(`BENCH_RATES must list positive integers, got "${process.env.BENCH_RATES}"`);
  return rates;
}

export interface SteadySettings {
  rates: number[];
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
}

/** BENCH_RATES, BENCH_STEADY_SECONDS, BENCH_STEADY_WARMUP_SECONDS, BENCH_WORKER_CONCURRENCY; the defaults are the caller's. */
export function steadySettingsFromEnv(defaults: { rates: string; seconds: number; warmupSeconds: number }): SteadySettings {
  return {
    rates: ratesFromEnv(defaults.rates),
    seconds: envInt('BENCH_STEADY_SECONDS', defaults.seconds),
    warmupSeconds: envInt('BENCH_STEADY_WARMUP_SECONDS', defaults.warmupSeconds),
    concurrency: envInt('BENCH_WORKER_CONCURRENCY', PROBE_WORKER_CONCURRENCY),
  };
}

/** The figures of one rate's result, each named `<prefix>.<figure>`. */
export function steadyFigures(prefix: string, r: SteadyRateResult): Record<string, number> {
  return {
    [`${prefix}.p50Ms`]: r.submitToVisibleMs.p50,
    [`${prefix}.p99Ms`]: r.submitToVisibleMs.p99,
    [`${prefix}.maxMs`]: r.submitToVisibleMs.max,
    [`${prefix}.achievedRatePerSecond`]: r.achievedRatePerSecond,
    [`${prefix}.visiblePerSecond`]: r.visiblePerSecond,
    [`${prefix}.backlogAtEnd`]: r.backlogAtEnd,
    [`${prefix}.drainMs`]: r.drainMs,
    [`${prefix}.keptUp`]: r.keptUp ? 1 : 0,
    [`${prefix}.loadAverage1m`]: r.loadAverage1m,
  };
}

async function steadyState(): Promise<Record<string, unknown>> {
  const { rates, seconds, warmupSeconds, concurrency } = steadySettingsFromEnv({ rates: '500,1000,2000', seconds: 60, warmupSeconds: 5 });
  const choice = stackChoiceFromEnv();
  const repeated = await repeatRuns('steady-state', runsFromEnv(), async () => {
    const results: SteadyRateResult[] = [];
    for (const rate of rates) results.push(await runSteadyRate(rate, seconds, warmupSeconds, concurrency, choice));
    const figures: Record<string, number> = {};
    for (const r of results) Object.assign(figures, steadyFigures(`r${r.ratePerSecond}`, r));
    return { figures, detail: { rates: results } };
  });
  const atTarget = (repeated.figures as Record<string, { median: number }>)[`r${TARGET.ratePerSecond}.p99Ms`];
  return {
    rates,
    secondsPerRate: seconds,
    warmupSeconds,
    workerConcurrency: concurrency,
    broker: choice.broker,
    channel: choice.channel,
    target: `p99 < ${TARGET.p99Ms} ms at ${TARGET.ratePerSecond} tasks/s`,
    // Judged on the median over runs; absent when BENCH_RATES leaves the target rate out.
    ...(atTarget === undefined ? {} : { meetsTarget: atTarget.median < TARGET.p99Ms }),
    ...repeated,
    note:
      `Every ${SLICE_MS} ms one produce request carries the submissions due by then. Latency = from the task's place in the schedule (rate × time, so a submitter behind schedule counts against the system, not for it) to the task reading Completed in PostgreSQL ` +
      `(timeline of projection_offsets polled every ${WATCH_POLL_MS} ms, so up to that much late), for tasks submitted after the warm-up. ` +
      'backlogAtEnd = tasks submitted but not yet visible when submission stopped; keptUp = backlogAtEnd ≤ one second of submissions. ' +
      'Broker, worker, projector, submitter and watch share this process; each rate runs on fresh topics and schema.',
  };
}

export const steadyStateBenchmarks = { 'steady-state': steadyState };

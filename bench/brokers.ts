// brokers: the Kafka broker and the custom broker (PostgreSQL) side by side, in one
// process and one run, several times (BENCH_RUNS). Both serve the same channel
// (BENCH_CHANNEL: rabbitmq by default, or redis; the custom broker has no kafka channel),
// so the worker's side is the same and only the broker differs: the Kafka broker through
// its relay, the custom broker through its outbox relay. Each run takes
// the probe burst of e2e-vs-bullmq (BENCH_TASKS, complete = Completed in PostgreSQL), then
// steady-state's paced rates (BENCH_RATES, default 100,1000 for 30 s after 10 s of
// warm-up); each part runs on both brokers back to back, the first one alternating
// between runs (as e2e-vs-bullmq alternates) so neither always gets the warmer machine.
// ratio.* = custom / kafka: below 1 the custom broker is slower in throughput, faster in latency.
import { stackChoice, type StackChoice } from './bench-stack.js';
import { probeOptionsFromEnv, runProbeBurst, type ProbeBurstResult } from './probe-e2e.js';
import { repeatRuns, runsFromEnv } from './repeat.js';
import { runSteadyRate, steadyFigures, steadySettingsFromEnv, type SteadyRateResult } from './steady-state.js';

const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;

interface SideResults {
  burst: ProbeBurstResult;
  rates: Map<number, SteadyRateResult>;
}

function burstFigures(prefix: string, r: ProbeBurstResult): Record<string, number> {
  return { [`${prefix}.burst.tasksPerSecond`]: r.tasksPerSecond, [`${prefix}.burst.p50Ms`]: r.submitToCompletedMs.p50, [`${prefix}.burst.p99Ms`]: r.submitToCompletedMs.p99 };
}

/** Each stage's median (steady-state.ts stages): where the two brokers' latency differs. */
function stageFigures(prefix: string, r: SteadyRateResult): Record<string, number> {
  return Object.fromEntries(Object.entries(r.stagesMs).map(([stage, s]) => [`${prefix}.stage.${stage}.p50Ms`, s.p50]));
}

async function brokers(): Promise<Record<string, unknown>> {
  const burst = probeOptionsFromEnv('postgres');
  const steady = steadySettingsFromEnv({ rates: '100,1000', seconds: 30, warmupSeconds: 10 });
  // Like for like: one channel for both (stackChoice refuses kafka for the custom broker).
  const channel = process.env.BENCH_CHANNEL ?? 'rabbitmq';
  const custom = stackChoice('custom', channel);
  const kafka = stackChoice('kafka', channel);
  const repeated = await repeatRuns('brokers', runsFromEnv(), async (run) => {
    const order: StackChoice[] = run % 2 === 0 ? [kafka, custom] : [custom, kafka];
    const results = new Map<StackChoice['broker'], SideResults>();
    for (const side of order) results.set(side.broker, { burst: await runProbeBurst({ ...burst, ...side }), rates: new Map() });
    for (const rate of steady.rates) {
      for (const side of order) results.get(side.broker)?.rates.set(rate, await runSteadyRate(rate, steady.seconds, steady.warmupSeconds, steady.concurrency, side));
    }
    const k = results.get('kafka') as SideResults;
    const c = results.get('custom') as SideResults;
    const figures: Record<string, number> = {
      kafkaFirst: run % 2 === 0 ? 1 : 0,
      ...burstFigures('kafka', k.burst),
      ...burstFigures('custom', c.burst),
      'ratio.burst.throughput': ratio(c.burst.tasksPerSecond, k.burst.tasksPerSecond),
      'ratio.burst.p50': ratio(c.burst.submitToCompletedMs.p50, k.burst.submitToCompletedMs.p50),
      'ratio.burst.p99': ratio(c.burst.submitToCompletedMs.p99, k.burst.submitToCompletedMs.p99),
    };
    for (const rate of steady.rates) {
      const kr = k.rates.get(rate) as SteadyRateResult;
      const cr = c.rates.get(rate) as SteadyRateResult;
      Object.assign(figures, steadyFigures(`kafka.r${rate}`, kr), stageFigures(`kafka.r${rate}`, kr), steadyFigures(`custom.r${rate}`, cr), stageFigures(`custom.r${rate}`, cr), {
        [`ratio.r${rate}.p50`]: ratio(cr.submitToVisibleMs.p50, kr.submitToVisibleMs.p50),
        [`ratio.r${rate}.p99`]: ratio(cr.submitToVisibleMs.p99, kr.submitToVisibleMs.p99),
        [`ratio.r${rate}.visiblePerSecond`]: ratio(cr.visiblePerSecond, kr.visiblePerSecond),
      });
    }
    return { figures, detail: { kafka: { burst: k.burst, rates: [...k.rates.values()] }, custom: { burst: c.burst, rates: [...c.rates.values()] } } };
  });
  return {
    sides: { kafka, custom },
    tasks: burst.tasks,
    workerConcurrency: burst.concurrency,
    ...steady,
    ...repeated,
    note:
      'Per run: the probe burst on each broker, then each rate on each broker, the first broker alternating between runs (kafkaFirst). ' +
      'Broker, relay, worker (one, on the channel named in sides), projector, submitter and watch share this process; each part runs on fresh topics, schema and queues. ' +
      'Burst: complete = Completed visible in PostgreSQL (projection_offsets timeline, 20 ms polls). Steady: latency from the task’s place in the schedule to Completed visible (10 ms polls), stages from the broker’s decision times. ' +
      'ratio.* = custom / kafka.',
  };
}

export const brokersBenchmarks = { brokers };

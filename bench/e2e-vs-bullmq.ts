// e2e-vs-bullmq (issue 6): STACKL's end-to-end burst, complete when every task reads
// Completed in PostgreSQL, beside the same burst on BullMQ, in one process and one
// run, several times (BENCH_RUNS). The order alternates between runs so neither system
// always gets the warmer (or the more contended) half of the machine. BENCH_BROKER and
// BENCH_CHANNEL pick STACKL's broker and channel (bench-stack.ts).
import { bullmqOptionsFromEnv, runBullmqBurst, type BullmqBurstResult } from './bullmq-peer.js';
import { probeOptionsFromEnv, runProbeBurst, type ProbeBurstResult } from './probe-e2e.js';
import { repeatRuns, runsFromEnv } from './repeat.js';

const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;

async function e2eVsBullmq(): Promise<Record<string, unknown>> {
  const stacklOptions = probeOptionsFromEnv('postgres');
  const bullmqOptions = bullmqOptionsFromEnv();
  const repeated = await repeatRuns('e2e-vs-bullmq', runsFromEnv(), async (run) => {
    let stackl: ProbeBurstResult;
    let bullmq: BullmqBurstResult;
    if (run % 2 === 0) {
      stackl = await runProbeBurst(stacklOptions);
      bullmq = await runBullmqBurst(bullmqOptions);
    } else {
      bullmq = await runBullmqBurst(bullmqOptions);
      stackl = await runProbeBurst(stacklOptions);
    }
    return {
      figures: {
        'stackl.tasksPerSecond': stackl.tasksPerSecond,
        'stackl.p50Ms': stackl.submitToCompletedMs.p50,
        'stackl.p99Ms': stackl.submitToCompletedMs.p99,
        'bullmq.jobsPerSecond': bullmq.jobsPerSecond,
        'bullmq.p50Ms': bullmq.enqueueToCompletedMs.p50,
        'bullmq.p99Ms': bullmq.enqueueToCompletedMs.p99,
        // Below 1: STACKL is slower (throughput) or faster (latency: its ratio is STACKL/BullMQ too).
        'ratio.throughput': ratio(stackl.tasksPerSecond, bullmq.jobsPerSecond),
        'ratio.p50': ratio(stackl.submitToCompletedMs.p50, bullmq.enqueueToCompletedMs.p50),
        'ratio.p99': ratio(stackl.submitToCompletedMs.p99, bullmq.enqueueToCompletedMs.p99),
      },
      detail: { stackl, bullmq },
    };
  });
  return {
    tasks: stacklOptions.tasks,
    workerConcurrency: stacklOptions.concurrency,
    broker: stacklOptions.broker,
    channel: stacklOptions.channel,
    ...repeated,
    note:
      `STACKL (broker ${stacklOptions.broker}, channel ${stacklOptions.channel}): broker, worker, projector and observer in one process; complete = Completed visible in PostgreSQL (timeline of projection_offsets, 20 ms polls). ` +
      'BullMQ: queue and worker in one process, private redis-server with AOF everysec; complete = worker completed event. ratio.* = STACKL / BullMQ. rssMiB is the whole bench process, which runs both.',
  };
}

export const comparisonBenchmarks = { 'e2e-vs-bullmq': e2eVsBullmq };

// Benchmarks of the `kafka` broker's lifecycle processor on the local broker:
//  - broker-throughput: input records/s through the processor from a backlog of
//    SubmitTask records, then the restore time of the resulting live tasks;
//  - broker-timeouts: lateness (deadline → timeout event) with many pending deadlines;
//    its scenario (runTimeouts) is parameterised and shared with timeouts-100k.
import { loadConfig } from '../core/config.js';
import { KafkaBrokerClient } from '../processors/broker/kafka-broker-client.js';
import { startLifecycleApp } from '../processors/broker/kafka/lifecycle-app.js';
import { decode, taskEventSchema } from '../schemas/index.js';
import { createKafka } from '../topics/kafka.js';
import { topicNames } from '../topics/names.js';
import { cleanUp } from './probe-e2e.js';
import { progress, rssMiB, summarize, waitUntil } from './stats.js';

const int = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

function benchConfig(label: string) {
  const prefix = `bench.${label}.${Date.now().toString(36)}.`;
  return loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: prefix });
}

async function submitBacklog(client: KafkaBrokerClient, count: number, timeoutMs: (i: number) => number, attemptTimeoutMs?: number): Promise<number> {
  const began = Date.now();
  for (let i = 0; i < count; i += 1000) {
    const size = Math.min(1000, count - i);
    const extra = attemptTimeoutMs === undefined ? {} : { attemptTimeoutMs };
    await client.submitMany(Array.from({ length: size }, (_, j) => ({ kind: 'probe', action: 'run', payload: { outcome: 'hang' }, timeoutMs: timeoutMs(i + j), ...extra })));
    if ((i / 1000) % 20 === 0) progress(`submitted ${i + size}/${count}`);
  }
  return Date.now() - began;
}

async function throughput(): Promise<Record<string, unknown>> {
  const tasks = int('BENCH_TASKS', 100_000);
  const config = benchConfig('throughput');
  const kafka = createKafka(config, 'bench');
  const client = new KafkaBrokerClient(kafka, topicNames(config.topicPrefix).requests, config.partitions);

  // Create the topics first (the app does it), then stop, so the backlog waits unprocessed.
  await (await startLifecycleApp(config, { clientId: 'bench-setup' })).stop();
  const submitMs = await submitBacklog(client, tasks, () => 3_600_000);
  await client.close();

  progress(`processing a backlog of ${tasks} SubmitTask records`);
  const began = Date.now();
  const running = await startLifecycleApp(config, { clientId: 'bench-processor' });
  await waitUntil(() => running.app.stats().records >= tasks, 600_000, 'the backlog to be processed');
  const processMs = Date.now() - began;
  const stats = running.app.stats();
  const rssAfterProcessing = rssMiB();
  await running.stop();

  progress(`restoring ${stats.liveKeys} live tasks`);
  const restoreBegan = Date.now();
  const restored = await startLifecycleApp(config, { clientId: 'bench-restore' });
  const restoreMs = Date.now() - restoreBegan;
  const restoredKeys = restored.app.stats().restoredKeys;
  await restored.stop();

  return {
    tasks,
    partitions: config.partitions,
    submit: { ms: submitMs, recordsPerSecond: Math.round((tasks / submitMs) * 1000) },
    processing: {
      ms: processMs,
      inputRecordsPerSecond: Math.round((tasks / processMs) * 1000),
      // Each SubmitTask writes two events, one work order and one changelog record.
      outputRecordsPerSecond: Math.round(((tasks * 4) / processMs) * 1000),
      transactions: stats.transactions,
      recordsPerTransaction: Math.round(tasks / Math.max(1, stats.transactions)),
      includesStartAndRestoreOfEmptyState: true,
    },
    restore: { liveTasks: restoredKeys, ms: restoreMs, tasksPerSecond: Math.round((restoredKeys / restoreMs) * 1000) },
    rssMiB: rssAfterProcessing,
  };
}

export interface TimeoutsOptions {
  /** Tasks, each with a deadline and no worker to answer before it. */
  tasks: number;
  /** The deadlines spread evenly over this window, which opens once every task is pending. */
  spreadMs: number;
  /** Time from the first submit to the first deadline, for the broker to take every submission first (default tasks / 5 ms, at least 10 s). */
  leadMs?: number;
  /**
   * Give each task an attempt timeout of an hour: the task deadline still fires first, but
   * the rollback it dispatches (which no one answers either) then times out an hour later,
   * not inside the window, so the window holds exactly `tasks` deadlines.
   */
  quietRollbacks?: boolean;
  /** Sample the process RSS this often, to report its peak (the broker runs in this process). */
  rssSampleMs?: number;
}

export interface TimeoutsResult {
  pendingDeadlines: number;
  spreadMs: number;
  submitMs: number;
  /** False when some task's deadline came before every task was pending: the window overlapped the submit. */
  allPendingBeforeFirstDeadline: boolean;
  latenessMs: { decision: ReturnType<typeof summarize>; observed: ReturnType<typeof summarize> };
  rssMiBWithPendingDeadlines: number;
  peakRssMiB: number;
  /** Rollback attempts that also timed out while the task deadlines fired (extra load on the same timers). */
  rollbackTimeoutsDuringWindow: number;
  leadMs: number;
  quietRollbacks: boolean;
}

/**
 * No worker runs, so every task times out at its deadline. Shared by broker-timeouts
 * (50,000 over 30 s) and timeouts-100k (issue 6: 100,000 over 60 s).
 */
export async function runTimeouts(options: TimeoutsOptions): Promise<TimeoutsResult> {
  const { tasks, spreadMs } = options;
  const config = benchConfig('timeouts');
  const topics = topicNames(config.topicPrefix);
  const kafka = createKafka(config, 'bench');
  let peakRss = rssMiB();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB())), options.rssSampleMs ?? 500);
  const running = await startLifecycleApp(config, { clientId: 'bench-processor' });
  const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);

  const deadlines = new Map<string, number>();
  const decisionLateness: number[] = [];
  const observedLateness: number[] = [];
  let lastSubmittedSeenAt = 0;
  let rollbackTimeouts = 0;
  const consumer = kafka.consumer({ groupId: `${config.topicPrefix}bench-observer`, maxWaitTimeInMs: 20 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: topics.events, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const receivedAt = Date.now();
        for (const message of batch.messages) {
          const event = await decode(message.value ?? Buffer.alloc(0), taskEventSchema);
          if (event.type === 'TaskSubmitted') {
            deadlines.set(event.taskId, event.body.deadlineAt);
            lastSubmittedSeenAt = receivedAt;
          }
          if (event.type === 'TaskFailed' && event.body.reason === 'timeout') {
            const deadline = deadlines.get(event.taskId) ?? event.time;
            decisionLateness.push(event.time - deadline);
            observedLateness.push(receivedAt - deadline);
          }
          if (event.type === 'RollbackFailed' && observedLateness.length < tasks) rollbackTimeouts += 1;
        }
      },
    });

    // Deadlines spread evenly over `spreadMs`, starting once every task is pending.
    const submitWindowMs = options.leadMs ?? Math.max(10_000, tasks / 5);
    const submitMs = await submitBacklog(client, tasks, (i) => submitWindowMs + Math.floor((i / tasks) * spreadMs), options.quietRollbacks ? 3_600_000 : undefined);
    await waitUntil(() => deadlines.size >= tasks, 120_000, 'every task to be submitted');
    // A loop, not Math.min(...values): 100,000 arguments overflow the call stack.
    let firstDeadline = Number.POSITIVE_INFINITY;
    for (const at of deadlines.values()) firstDeadline = Math.min(firstDeadline, at);
    const pendingRss = rssMiB();
    progress(`${tasks} deadlines pending; waiting for them to fire`);
    await waitUntil(() => observedLateness.length >= tasks, submitWindowMs + spreadMs + 120_000, 'every timeout');
    return {
      pendingDeadlines: tasks,
      spreadMs,
      submitMs,
      allPendingBeforeFirstDeadline: lastSubmittedSeenAt <= firstDeadline,
      latenessMs: { decision: summarize(decisionLateness), observed: summarize(observedLateness) },
      rssMiBWithPendingDeadlines: pendingRss,
      peakRssMiB: peakRss,
      rollbackTimeoutsDuringWindow: rollbackTimeouts,
      leadMs: submitWindowMs,
      quietRollbacks: options.quietRollbacks ?? false,
    };
  } finally {
    clearInterval(sampler);
    await consumer.disconnect();
    await client.close();
    await running.stop();
    await cleanUp(kafka, config, false);
  }
}

async function timeouts(): Promise<Record<string, unknown>> {
  const result = await runTimeouts({ tasks: int('BENCH_PENDING', 50_000), spreadMs: int('BENCH_SPREAD_MS', 30_000) });
  return {
    ...result,
    note: 'decision = event time − deadline (when the processor decided); observed = when a read-committed consumer saw it − deadline',
  };
}

export const brokerBenchmarks = {
  'broker-throughput': throughput,
  'broker-timeouts': timeouts,
};

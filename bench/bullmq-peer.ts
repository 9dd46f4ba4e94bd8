// The peer STACKL is measured against (issue 6): the same burst on BullMQ. N probe-like
// jobs enqueued with addBulk in the chunks STACKL submits in, one worker with the
// concurrency STACKL's end-to-end worker has, jobs that succeed at once, completed jobs
// kept (STACKL keeps every task's history too), on a redis-server of our own with AOF
// fsync'd every second. Completion is the worker's `completed` event, emitted once Redis
// has the job in its completed set; QueueEvents is not used because its stream is
// trimmed (~10,000 events by default) and a slow reader would lose completions.
import { Queue, Worker, type Job } from 'bullmq';
import { PROBE_SUBMIT_CHUNK, PROBE_WORKER_CONCURRENCY } from './probe-e2e.js';
import { BenchRedis } from './private-redis.js';
import { repeatRuns, runsFromEnv } from './repeat.js';
import { envInt, progress, rssMiB, runStamp, summarize, waitUntil } from './stats.js';

export interface BullmqBurstOptions {
  tasks: number;
  concurrency: number;
}

export interface BullmqBurstResult {
  tasks: number;
  workerConcurrency: number;
  enqueueChunk: number;
  elapsedMs: number;
  jobsPerSecond: number;
  enqueueToCompletedMs: ReturnType<typeof summarize>;
  rssMiB: number;
  redis: Record<string, string>;
}

/** What a STACKL probe task carries, plus the enqueue time the latency is measured from. */
interface ProbeJob {
  kind: 'probe';
  action: 'run';
  payload: { outcome: 'succeed' };
  enqueuedAt: number;
}

export function bullmqOptionsFromEnv(): BullmqBurstOptions {
  return { tasks: envInt('BENCH_TASKS', 20_000), concurrency: envInt('BENCH_WORKER_CONCURRENCY', PROBE_WORKER_CONCURRENCY) };
}

export async function runBullmqBurst(options: BullmqBurstOptions): Promise<BullmqBurstResult> {
  const redis = await BenchRedis.start();
  // BullMQ's workers block on Redis; it asks for retries without a limit on their connection.
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const name = `bench-probe-${runStamp()}`;
  const queue = new Queue<ProbeJob>(name, { connection });
  const completedAt: number[] = [];
  const latencies: number[] = [];
  const worker = new Worker<ProbeJob>(name, async (job: Job<ProbeJob>) => ({ attempt: job.attemptsMade + 1 }), { connection, concurrency: options.concurrency, autorun: false });
  worker.on('completed', (job) => {
    const now = Date.now();
    completedAt.push(now);
    latencies.push(now - job.data.enqueuedAt);
  });
  worker.on('error', (error) => progress(`bullmq worker error: ${error.message}`));
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    const running = worker.run();
    const persistence = await redis.persistence();

    const began = Date.now();
    for (let i = 0; i < options.tasks; i += PROBE_SUBMIT_CHUNK) {
      const enqueuedAt = Date.now();
      const size = Math.min(PROBE_SUBMIT_CHUNK, options.tasks - i);
      await queue.addBulk(Array.from({ length: size }, () => ({ name: 'probe', data: { kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, enqueuedAt } })));
    }
    progress(`enqueued ${options.tasks} BullMQ jobs in ${Date.now() - began} ms`);
    await waitUntil(() => completedAt.length >= options.tasks, 600_000, 'every BullMQ job to complete');
    const elapsedMs = completedAt.reduce((a, b) => Math.max(a, b), 0) - began;
    const rss = rssMiB();
    await worker.close();
    await running;
    return {
      tasks: options.tasks,
      workerConcurrency: options.concurrency,
      enqueueChunk: PROBE_SUBMIT_CHUNK,
      elapsedMs,
      jobsPerSecond: Math.round((options.tasks / elapsedMs) * 1000),
      enqueueToCompletedMs: summarize(latencies),
      rssMiB: rss,
      redis: persistence,
    };
  } finally {
    await worker.close(true).catch(() => {});
    await queue.close().catch(() => {});
    await redis.stop();
  }
}

async function bullmqPeer(): Promise<Record<string, unknown>> {
  const options = bullmqOptionsFromEnv();
  return {
    tasks: options.tasks,
    workerConcurrency: options.concurrency,
    ...(await repeatRuns('bullmq-peer', runsFromEnv(), async () => {
      const r = await runBullmqBurst(options);
      return { figures: { jobsPerSecond: r.jobsPerSecond, p50Ms: r.enqueueToCompletedMs.p50, p99Ms: r.enqueueToCompletedMs.p99 }, detail: { ...r } };
    })),
    note: 'queue, worker and timing in one process; redis-server of its own (AOF everysec); completion = the worker\'s completed event',
  };
}

export const bullmqBenchmarks = { 'bullmq-peer': bullmqPeer };

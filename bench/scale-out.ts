// scale-out (issue 18): does throughput grow with processes? For each count N of
// BENCH_SCALE (default 1,2,4), N broker and N worker processes (`stackl broker`,
// `stackl worker`, each its own OS process, one projector) share BENCH_PARTITIONS (12)
// task partitions; BENCH_TASKS (20,000) probe tasks go to task.requests as probe-e2e sends
// them, and the clock stops when every one reads Completed in PostgreSQL. A warm-up of
// twenty tasks per partition first proves every partition served after the group settled.
// On a 2-core machine shared with Kafka and PostgreSQL the processes compete for the same
// cores, so this shows the cost of spreading out (rebalances, fences, more connections)
// more than the gain; on more cores the same command shows the gain.
import pg from 'pg';
import { loadConfig } from '../core/config.js';
import { createKafka } from '../topics/kafka.js';
import { cleanUp, PROBE_WORKER_CONCURRENCY } from './probe-e2e.js';
import { repeatRuns, runsFromEnv } from './repeat.js';
import { completedAtLeast, submitThroughKafka } from './role-rss.js';
import { NO_SHEDDING, startBrokerThen, type RoleProcess } from './roles.js';
import { envInt, progress, runStamp } from './stats.js';

interface ScaleRun {
  processes: number;
  partitions: number;
  tasks: number;
  concurrency: number;
}

async function oneScale({ processes, partitions, tasks, concurrency }: ScaleRun): Promise<Record<string, number>> {
  const stamp = runStamp();
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.scale.${stamp}.`, STACKL_DB_SCHEMA: `bench_scale_${stamp}`, STACKL_PARTITIONS: String(partitions) });
  const env = {
    STACKL_TOPIC_PREFIX: config.topicPrefix,
    STACKL_DB_SCHEMA: config.databaseSchema,
    STACKL_PARTITIONS: String(partitions),
    STACKL_CHANNEL: 'kafka',
    STACKL_WORKER_CONCURRENCY: String(concurrency),
    ...NO_SHEDDING,
  };
  const roles: RoleProcess[] = [];
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
  try {
    await startBrokerThen([...Array.from({ length: processes - 1 }, () => 'broker'), ...Array.from({ length: processes }, () => 'worker'), 'projector'], env, roles);
    // Twenty tasks per partition on average (random ids spread them; one partition left out
    // has odds of 1 in 10^7): once all read Completed, every partition serves.
    const warmUp: string[] = [];
    await submitThroughKafka(config, partitions * 20, warmUp);
    await completedAtLeast(pool, config, warmUp.length, 300_000);

    progress(`scale-out: ${tasks} tasks, ${processes} broker and ${processes} worker processes, ${partitions} partitions`);
    const began = Date.now();
    const submitMs = await submitThroughKafka(config, tasks, []);
    await completedAtLeast(pool, config, warmUp.length + tasks, 600_000);
    const elapsedMs = Date.now() - began;
    return { tasksPerSecond: Math.round((tasks / elapsedMs) * 1000), submitPerSecond: Math.round((tasks / submitMs) * 1000), elapsedMs };
  } finally {
    await Promise.all(roles.map((r) => r.stop()));
    await pool.end();
    await cleanUp(createKafka(config, 'bench-cleanup'), config, true);
  }
}

async function scaleOut(): Promise<Record<string, unknown>> {
  const scales = (process.env.BENCH_SCALE ?? '1,2,4').split(',').map((n) => Number(n.trim()));
  if (scales.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_SCALE must list positive integers, got "${process.env.BENCH_SCALE}"`);
  const partitions = envInt('BENCH_PARTITIONS', 12);
  const tasks = envInt('BENCH_TASKS', 20_000);
  const concurrency = envInt('BENCH_WORKER_CONCURRENCY', PROBE_WORKER_CONCURRENCY);
  const repeated = await repeatRuns('scale-out', runsFromEnv(), async () => {
    const figures: Record<string, number> = {};
    for (const processes of scales) {
      const result = await oneScale({ processes, partitions, tasks, concurrency });
      for (const [name, value] of Object.entries(result)) figures[`n${processes}.${name}`] = value;
    }
    const base = figures[`n${scales[0]}.tasksPerSecond`] ?? Number.NaN;
    for (const processes of scales) figures[`n${processes}.vsFirst`] = Math.round(((figures[`n${processes}.tasksPerSecond`] ?? Number.NaN) / base) * 1000) / 1000;
    return { figures, detail: {} };
  });
  return {
    scales,
    partitions,
    tasks,
    workerConcurrency: concurrency,
    ...repeated,
    note:
      'nN = N `stackl broker` and N `stackl worker` processes (one projector), every one its own OS process on this machine. tasksPerSecond = first submit to the last Completed row counted (250 ms polls); ' +
      'vsFirst = the ratio to the first count of BENCH_SCALE in the same run. Submissions go straight to task.requests, 500 per produce request, after a warm-up of twenty tasks per partition. ' +
      'The brokers shed nothing (STACKL_BROKER_MAX_* = 0): every task is counted through to Completed.',
  };
}

export const scaleOutBenchmarks = { 'scale-out': scaleOut };

// role-rss (issue 6): resident memory of each role as its own OS process (`stackl
// broker|worker|projector|api`, plus `relay` with BENCH_CHANNEL=redis) during a burst of
// BENCH_TASKS (default 20,000) probe tasks. BENCH_SUBMIT picks how the burst arrives:
//  - `kafka` (default): as probe-e2e sends it, 500 submissions per produce request to
//    task.requests, while BENCH_API_CLIENTS (32) HTTP clients read GET /tasks/:id of
//    submitted tasks, so the API works through the burst too;
//  - `api`: every task through POST /tasks by BENCH_API_CLIENTS concurrent clients
//    (each POST is one produce request, so this burst is as fast as the API submits).
// VmRSS of every role is read from /proc every 500 ms from the first submit until every
// task reads Completed in PostgreSQL; we report peak and median per role, and the idle
// RSS just before. About a minute a run (kafka), so it honours BENCH_RUNS.
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, type StacklConfig } from '../core/config.js';
import { KafkaBrokerClient } from '../processors/broker/kafka-broker-client.js';
import { createKafka } from '../topics/kafka.js';
import { topicNames } from '../topics/names.js';
import { cleanUp, PROBE_SUBMIT_CHUNK, PROBE_WORKER_CONCURRENCY } from './probe-e2e.js';
import { repeatRuns, runsFromEnv } from './repeat.js';
import { NO_SHEDDING, rssOfPidMiB, RssSampler, startBrokerThen, type RoleProcess } from './roles.js';
import { envInt, progress, runStamp } from './stats.js';

const PROBE = { kind: 'probe', action: 'run', payload: { outcome: 'succeed' } };
const BODY = JSON.stringify(PROBE);

async function completedCount(pool: pg.Pool, schema: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from ${pg.escapeIdentifier(schema)}.tasks where status = 'Completed'`);
  return rows[0]?.n ?? 0;
}

/** Waits until `count` tasks read Completed, polling every 250 ms; fails after `timeoutMs` with the rows by status. */
export async function completedAtLeast(pool: pg.Pool, config: StacklConfig, count: number, timeoutMs: number): Promise<void> {
  const began = Date.now();
  for (let done = 0; done < count; done = await completedCount(pool, config.databaseSchema)) {
    if (Date.now() - began > timeoutMs) {
      const { rows } = await pool.query<{ status: string; n: number }>(`select status, count(*)::int as n from ${pg.escapeIdentifier(config.databaseSchema)}.tasks group by status`);
      throw new Error(`only ${done} of ${count} tasks Completed after ${timeoutMs} ms; rows by status: ${JSON.stringify(Object.fromEntries(rows.map((r) => [r.status, r.n])))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Submits as probe-e2e does: PROBE_SUBMIT_CHUNK tasks per produce request; returns their ids. */
export async function submitThroughKafka(config: StacklConfig, tasks: number, ids: string[]): Promise<number> {
  const client = new KafkaBrokerClient(createKafka(config, 'bench'), topicNames(config.topicPrefix).requests, config.partitions);
  const began = Date.now();
  try {
    for (let i = 0; i < tasks; i += PROBE_SUBMIT_CHUNK) {
      const batch = Array.from({ length: Math.min(PROBE_SUBMIT_CHUNK, tasks - i) }, () => PROBE);
      for (const receipt of await client.submitMany(batch)) ids.push(receipt.taskId);
    }
  } finally {
    await client.close();
  }
  return Date.now() - began;
}

/** GET /tasks/:id of random submitted tasks until `done()`; 404 before the projector has it is an answer too. */
async function readThroughApi(address: string, ids: string[], clients: number, done: () => boolean): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!done()) {
        const id = ids[Math.floor(Math.random() * ids.length)];
        if (id === undefined) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        const response = await fetch(`${address}/tasks/${id}`);
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      }
    }),
  );
  return statuses;
}

/** POSTs `tasks` submissions with `clients` requests in flight; any non-202 fails the run. */
async function submitThroughApi(address: string, tasks: number, clients: number): Promise<number> {
  let next = 0;
  const began = Date.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < tasks) {
        next += 1;
        const response = await fetch(`${address}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
        await response.arrayBuffer();
        if (response.status !== 202) throw new Error(`POST /tasks answered ${response.status}`);
      }
    }),
  );
  return Date.now() - began;
}

/** The redis channel's keys carry the topic prefix; drop them with the run's topics. */
async function dropRedisKeys(config: StacklConfig): Promise<void> {
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${config.topicPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = nextCursor;
    } while (cursor !== '0');
  } catch (error) {
    progress(`could not delete the run's redis keys: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

interface BurstOptions {
  tasks: number;
  channel: string;
  submit: 'kafka' | 'api';
  clients: number;
  concurrency: number;
}

async function oneBurst({ tasks, channel, submit, clients, concurrency }: BurstOptions): Promise<{ figures: Record<string, number>; detail: Record<string, unknown> }> {
  const stamp = runStamp();
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.rss.${stamp}.`, STACKL_DB_SCHEMA: `bench_rss_${stamp}` });
  const env = {
    STACKL_TOPIC_PREFIX: config.topicPrefix,
    STACKL_DB_SCHEMA: config.databaseSchema,
    STACKL_PARTITIONS: String(config.partitions),
    STACKL_CHANNEL: channel,
    STACKL_WORKER_CONCURRENCY: String(concurrency),
    STACKL_API_HOST: '127.0.0.1',
    STACKL_API_PORT: '0',
    // Every task is counted through to Completed: a shed one never would be.
    ...NO_SHEDDING,
  };
  const roles: RoleProcess[] = [];
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
  try {
    await startBrokerThen(['projector', 'worker', ...(channel === 'redis' ? ['relay'] : []), 'api'], env, roles);
    const api = roles.find((r) => r.role === 'api') as RoleProcess;
    const address = /api listening on (\S+)/.exec(api.readyLine)?.[1] as string;
    const idle = Object.fromEntries(roles.map((r) => [r.role, rssOfPidMiB(r.pid) ?? Number.NaN]));

    progress(`role-rss: ${tasks} tasks through ${address} (${channel} channel)`);
    const sampler = new RssSampler(new Map(roles.map((r) => [r.role, r.pid])));
    sampler.start();
    const began = Date.now();
    let finished = false;
    const ids: string[] = [];
    const reads: Promise<Record<string, number>> = submit === 'kafka' ? readThroughApi(address, ids, clients, () => finished) : Promise.resolve({});
    let submitMs: number;
    try {
      submitMs = submit === 'kafka' ? await submitThroughKafka(config, tasks, ids) : await submitThroughApi(address, tasks, clients);
      await completedAtLeast(pool, config, tasks, 600_000);
    } finally {
      finished = true;
    }
    const elapsedMs = Date.now() - began;
    const rss = sampler.stop();
    const readStatuses = await reads;

    const figures: Record<string, number> = { tasksPerSecond: Math.round((tasks / elapsedMs) * 1000), submitPerSecond: Math.round((tasks / submitMs) * 1000) };
    for (const r of roles) {
      figures[`${r.role}.idleMiB`] = idle[r.role] ?? Number.NaN;
      figures[`${r.role}.peakMiB`] = rss[r.role]?.peakMiB ?? Number.NaN;
      figures[`${r.role}.medianMiB`] = rss[r.role]?.medianMiB ?? Number.NaN;
    }
    const apiReads = Object.values(readStatuses).reduce((a, b) => a + b, 0);
    if (submit === 'kafka') figures.apiReadsPerSecond = Math.round((apiReads / elapsedMs) * 1000);
    return { figures, detail: { elapsedMs, submitMs, readStatuses, samples: Object.fromEntries(Object.entries(rss).map(([role, s]) => [role, s.samples])) } };
  } finally {
    await Promise.all(roles.map((r) => r.stop()));
    await pool.end();
    await cleanUp(createKafka(config, 'bench-cleanup'), config, true);
    if (channel === 'redis') await dropRedisKeys(config);
  }
}

async function roleRss(): Promise<Record<string, unknown>> {
  const tasks = envInt('BENCH_TASKS', 20_000);
  const channel = process.env.BENCH_CHANNEL ?? 'kafka';
  const clients = envInt('BENCH_API_CLIENTS', 32);
  const concurrency = envInt('BENCH_WORKER_CONCURRENCY', PROBE_WORKER_CONCURRENCY);
  const submit = process.env.BENCH_SUBMIT ?? 'kafka';
  if (submit !== 'kafka' && submit !== 'api') throw new Error(`BENCH_SUBMIT must be kafka or api, got "${submit}"`);
  const repeated = await repeatRuns('role-rss', runsFromEnv(), () => oneBurst({ tasks, channel, submit, clients, concurrency }));
  return {
    tasks,
    channel,
    submit,
    apiClients: clients,
    workerConcurrency: concurrency,
    ...repeated,
    note:
      'Each role is a `stackl <role>` process of its own; VmRSS from /proc/<pid>/status every 500 ms from the first submit until every task reads Completed in PostgreSQL. ' +
      'idleMiB = just before the burst, after every role said it was ready. tasksPerSecond = first submit to the last Completed row counted (250 ms polls). ' +
      'submit=kafka: the burst goes straight to task.requests as in probe-e2e while the API answers GET /tasks/:id (apiReadsPerSecond); submit=api: every task is a POST /tasks. ' +
      'The broker sheds nothing (STACKL_BROKER_MAX_* = 0), so every task is counted through to Completed.',
  };
}

export const roleRssBenchmarks = { 'role-rss': roleRss };

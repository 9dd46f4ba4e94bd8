// live-rss (issue 18): resident memory of `stackl broker`, a process of its own, holding
// BENCH_TASKS (default 100,000) live tasks. No worker runs and every task's timeouts are an
// hour away, so each submission stays in the broker's state, dispatched and waiting. We
// read VmRSS idle, at its peak while the broker takes the burst, and settled 10 s after
// it committed the last request; then, through bench/memory-probe.ts, the heap after a
// full collection, which is what the live tasks themselves hold. About 90 s a run.
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { loadConfig, type StacklConfig } from '../core/config.js';
import { KafkaBrokerClient } from '../processors/broker/kafka-broker-client.js';
import { createKafka } from '../topics/kafka.js';
import { consumerGroup, LIFECYCLE_APP, topicNames } from '../topics/names.js';
import { topicOffsets } from '../topics/topic-offsets.js';
import { cleanUp, PROBE_SUBMIT_CHUNK } from './probe-e2e.js';
import { repeatRuns, runsFromEnv } from './repeat.js';
import { NO_SHEDDING, rssOfPidMiB, RssSampler, startRole, type RoleProcess } from './roles.js';
import { envInt, progress, runStamp } from './stats.js';

const HOUR_MS = 3_600_000;
/** A task that would succeed, if a worker ran; none does, and nothing times out within the run. */
const WAITING_PROBE = { kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, timeoutMs: HOUR_MS, attemptTimeoutMs: HOUR_MS };
const SETTLE_MS = 10_000;
const MIB = 1024 * 1024;

interface HeapReading {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Asks the probe in the broker for a collection and a reading, and waits for it. */
async function heapAfterCollection(broker: RoleProcess, file: string): Promise<HeapReading> {
  rmSync(file, { force: true });
  process.kill(broker.pid, 'SIGUSR2');
  for (let waited = 0; waited < 30_000; waited += 100) {
    await sleep(100);
    try {
      const reading = JSON.parse(readFileSync(file, 'utf8')) as HeapReading & { collected: boolean };
      if (!reading.collected) throw new Error('the broker ran without --expose-gc; its heap reading would include garbage');
      return reading;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
    }
  }
  throw new Error(`the broker (pid ${broker.pid}) wrote no memory reading within 30 s`);
}

/** Requests the lifecycle group has not committed yet, over every partition. */
async function requestsBehind(admin: Admin, config: StacklConfig): Promise<number> {
  const topic = topicNames(config.topicPrefix).requests;
  const [ends, [committed]] = await Promise.all([topicOffsets(admin, topic), admin.fetchOffsets({ groupId: consumerGroup(config.topicPrefix, LIFECYCLE_APP), topics: [topic] })]);
  return ends.reduce((sum, end) => {
    const at = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
    return sum + Number(end.high) - Math.max(0, at);
  }, 0);
}

async function submitWaiting(config: StacklConfig, tasks: number): Promise<number> {
  const client = new KafkaBrokerClient(createKafka(config, 'bench'), topicNames(config.topicPrefix).requests, config.partitions);
  const began = Date.now();
  try {
    for (let sent = 0; sent < tasks; sent += PROBE_SUBMIT_CHUNK) {
      await client.submitMany(Array.from({ length: Math.min(PROBE_SUBMIT_CHUNK, tasks - sent) }, () => WAITING_PROBE));
    }
  } finally {
    await client.close();
  }
  return Date.now() - began;
}

async function oneRun(tasks: number): Promise<{ figures: Record<string, number>; detail: Record<string, unknown> }> {
  const stamp = runStamp();
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.live.${stamp}.`, STACKL_DB_SCHEMA: `bench_live_${stamp}` });
  const memoryFile = join(tmpdir(), `stackl-live-rss-${stamp}.json`);
  const probe = new URL('./memory-probe.js', import.meta.url).href;
  const env = {
    STACKL_TOPIC_PREFIX: config.topicPrefix,
    STACKL_DB_SCHEMA: config.databaseSchema,
    STACKL_PARTITIONS: String(config.partitions),
    // With no worker every order waits: a shedding broker would refuse most of the burst.
    ...NO_SHEDDING,
    STACKL_BENCH_MEMORY_FILE: memoryFile,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import ${probe}`.trim(),
  };
  const kafka = createKafka(config, 'bench');
  const admin = kafka.admin();
  let broker: RoleProcess | undefined;
  try {
    broker = await startRole('broker', env);
    await admin.connect();
    await sleep(2_000);
    const idleMiB = rssOfPidMiB(broker.pid) ?? Number.NaN;
    const idleHeap = await heapAfterCollection(broker, memoryFile);

    progress(`live-rss: ${tasks} waiting tasks to a broker of its own (pid ${broker.pid})`);
    const sampler = new RssSampler(new Map([['broker', broker.pid]]));
    sampler.start();
    const began = Date.now();
    const submitMs = await submitWaiting(config, tasks);
    while ((await requestsBehind(admin, config)) > 0) {
      if (Date.now() - began > 600_000) throw new Error('the broker did not take every request within 10 minutes');
      await sleep(500);
    }
    const takenMs = Date.now() - began;
    await sleep(SETTLE_MS);
    const settledMiB = rssOfPidMiB(broker.pid) ?? Number.NaN;
    const peakMiB = sampler.stop().broker?.peakMiB ?? Number.NaN;
    const live = await heapAfterCollection(broker, memoryFile);
    const figures = {
      idleMiB,
      peakMiB,
      settledMiB,
      rssAfterCollectionMiB: Math.round(live.rss / MIB),
      heapUsedAfterCollectionMiB: Math.round(live.heapUsed / MIB),
      heapBytesPerTask: Math.round((live.heapUsed - idleHeap.heapUsed) / tasks),
      takenPerSecond: Math.round((tasks / takenMs) * 1000),
    };
    return { figures, detail: { submitMs, takenMs, idleHeap, live } };
  } finally {
    await broker?.stop();
    await admin.disconnect().catch(() => {});
    rmSync(memoryFile, { force: true });
    await cleanUp(createKafka(config, 'bench-cleanup'), config, true);
  }
}

async function liveRss(): Promise<Record<string, unknown>> {
  const tasks = envInt('BENCH_TASKS', 100_000);
  const repeated = await repeatRuns('live-rss', runsFromEnv(), () => oneRun(tasks));
  return {
    tasks,
    ...repeated,
    note:
      '`stackl broker` alone, no shedding, no worker; each task dispatched and waiting, its timeouts an hour away. VmRSS from /proc: idle (ready, before the burst), ' +
      'peak (every 500 ms while it took the burst), settled (10 s after the lifecycle group committed the last request). Then SIGUSR2 to bench/memory-probe.ts ' +
      '(preloaded with --expose-gc) collects garbage and reads process.memoryUsage(): heapUsedAfterCollection is what the live tasks and the process hold; ' +
      'heapBytesPerTask = (that − the same reading when idle) / tasks.',
  };
}

export const liveRssBenchmarks = { 'live-rss': liveRss };

// recovery (issue 6): how long a fresh broker takes to take over an existing changelog,
// and how fast the log replays into a fresh projection. For each size of
// BENCH_RECOVERY_SIZES (default 100,000 and 1,000,000 live tasks):
//  1. a broker process (`stackl broker`) processes that many SubmitTask records sent in
//     large batches; no worker runs and timeouts are a day, so every task stays live;
//  2. BENCH_RUNS times: a fresh broker process starts on that changelog; we time it
//     until it owns every partition with its state restored (its "broker ready" line) and
//     until it serves (a SubmitTask sent just before the start reached task.events);
//  3. once: task.events (two events per task) replayed into a fresh PostgreSQL schema
//     with the projection's replay (bench/projection.ts). One run because it is already
//     a long average (200,000 or 2,000,000 events) and the longest step.
// The brokers are processes of their own so their memory is theirs, the heap can be
// sized for 1M tasks, and start-up is what an operator sees.
// Targets: 1M live tasks ready in under 60 s; replay ≥ 20,000 events/s.
import { statfsSync } from 'node:fs';
import type { Admin, Kafka } from 'kafkajs';
import { loadConfig, type StacklConfig } from '../core/config.js';
import { KafkaBrokerClient } from '../processors/broker/kafka-broker-client.js';
import { createKafka } from '../topics/kafka.js';
import { consumerGroup, LIFECYCLE_APP, topicNames } from '../topics/names.js';
import { cleanUp } from './probe-e2e.js';
import { dropSchemas, replayInto } from './projection.js';
import { repeatRuns, runsFromEnv } from './repeat.js';
import { rssOfPidMiB, startRole } from './roles.js';
import { envInt, loadAverage1m, progress, runStamp } from './stats.js';
import { topicOffsets } from '../topics/topic-offsets.js';

const TARGET = { tasks: 1_000_000, readyMs: 60_000, replayEventsPerSecond: 20_000 };
const DAY_MS = 86_400_000;
/** Submissions per produce request, and produce requests in flight at once. */
const CHUNK = 2_000;
const PARALLEL = 4;
/**
 * Disk a live task costs, generously: request, two events, work order and changelog put
 * in Kafka (~3 KiB together), plus its row and two event rows in the replayed schema.
 */
const BYTES_PER_TASK = 8 * 1024;
const DISK_MARGIN_BYTES = 5 * 2 ** 30;

const HANG = { kind: 'probe', action: 'run', payload: { outcome: 'hang' }, timeoutMs: DAY_MS };

function sizesFromEnv(): number[] {
  const sizes = (process.env.BENCH_RECOVERY_SIZES ?? '100000,1000000').split(',').map((s) => Number(s.trim()));
  if (sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new Error(`BENCH_RECOVERY_SIZES must list positive integers, got "${process.env.BENCH_RECOVERY_SIZES}"`);
  return sizes;
}

async function endOffsets(admin: Admin, topic: string): Promise<number> {
  return (await topicOffsets(admin, topic)).reduce((sum, o) => sum + Number(o.high), 0);
}

async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (result?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** Sends `count` submissions in batches from a few producers at once; progress every 5 s. */
async function submitMany(kafka: Kafka, config: StacklConfig, count: number): Promise<number> {
  const clients = Array.from({ length: PARALLEL }, () => new KafkaBrokerClient(kafka, topicNames(config.topicPrefix).requests, config.partitions));
  const began = Date.now();
  let next = 0;
  let sent = 0;
  const ticker = setInterval(() => progress(`recovery: submitted ${sent}/${count}`), 5_000);
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (next < count) {
          const size = Math.min(CHUNK, count - next);
          next += size;
          await client.submitMany(Array.from({ length: size }, () => HANG));
          sent += size;
        }
      }),
    );
  } finally {
    clearInterval(ticker);
    await Promise.all(clients.map((c) => c.close()));
  }
  return Date.now() - began;
}

interface RestoreRun {
  figures: Record<string, number>;
  detail: Record<string, unknown>;
}

/** One fresh broker process on the existing changelog: ready (all partitions restored), then serving. */
async function restoreOnce(kafka: Kafka, admin: Admin, config: StacklConfig, env: Record<string, string>): Promise<RestoreRun> {
  const events = topicNames(config.topicPrefix).events;
  const marker = new KafkaBrokerClient(kafka, topicNames(config.topicPrefix).requests, config.partitions);
  await marker.submit(HANG);
  await marker.close();
  const before = await endOffsets(admin, events);

  const began = Date.now();
  const broker = await startRole('broker', env);
  const readyMs = Date.now() - began;
  try {
    let servesMs = Number.NaN;
    for (const until = Date.now() + 120_000; Date.now() < until; ) {
      if ((await endOffsets(admin, events)) > before) {
        servesMs = Date.now() - began;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The processor's own account: per assignment, keys restored and ms from assignment to restored.
    const restored = broker.lines.flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; keys?: number; ms?: number };
        return entry.msg === 'partitions restored' ? [entry] : [];
      } catch {
        return [];
      }
    });
    const keys = restored.reduce((sum, e) => sum + (e.keys ?? 0), 0);
    const restoreMs = restored.reduce((longest, e) => Math.max(longest, e.ms ?? 0), 0);
    const owned = /owns partitions ([\d,]*)/.exec(broker.readyLine)?.[1]?.split(',').filter((p) => p !== '').length ?? 0;
    return {
      figures: {
        readyMs,
        servesMs,
        restoreMs,
        restoredKeys: keys,
        tasksPerSecond: Math.round((keys / readyMs) * 1000),
        ownedPartitions: owned,
        brokerRssMiB: rssOfPidMiB(broker.pid) ?? Number.NaN,
      },
      detail: { readyLine: broker.readyLine, restoreLines: restored.length },
    };
  } finally {
    await broker.stop();
  }
}

async function recoveryOfSize(size: number): Promise<Record<string, unknown>> {
  const stamp = runStamp();
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.recovery.${stamp}.`, STACKL_DB_SCHEMA: `bench_recovery_${stamp}` });
  const free = statfsSync(config.stateDir);
  const freeBytes = free.bavail * free.bsize;
  const neededBytes = size * BYTES_PER_TASK + DISK_MARGIN_BYTES;
  const gib = (bytes: number): number => Math.round((bytes / 2 ** 30) * 10) / 10;
  if (freeBytes < neededBytes) {
    progress(`recovery: skipping ${size} tasks: ${gib(freeBytes)} GiB free, about ${gib(neededBytes)} GiB needed`);
    return { liveTasks: size, skipped: 'not enough disk space', freeGiB: gib(freeBytes), neededGiB: gib(neededBytes) };
  }
  // The role processes get this run's prefix, a heap that fits a million tasks' state, and
  // the info level, whose "partitions restored" line gives the processor's own restore time.
  const env = {
    STACKL_TOPIC_PREFIX: config.topicPrefix,
    STACKL_LOG_LEVEL: 'info',
    STACKL_PARTITIONS: String(config.partitions),
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${envInt('BENCH_BROKER_HEAP_MB', 8192)}`.trim(),
  };
  const kafka = createKafka(config, 'bench-recovery');
  const admin = kafka.admin();
  await admin.connect();
  try {
    progress(`recovery: making ${size} live tasks (broker process, no worker)`);
    const producer = await startRole('broker', env);
    const requests = topicNames(config.topicPrefix).requests;
    const began = Date.now();
    const submitMs = await submitMany(kafka, config, size);
    const group = consumerGroup(config.topicPrefix, LIFECYCLE_APP);
    let processed = 0;
    for (let last = 0; processed < size; ) {
      processed = await committedOffsets(admin, group, requests);
      if (Date.now() - last > 5_000) {
        progress(`recovery: broker processed ${processed}/${size}`);
        last = Date.now();
      }
      if (Date.now() - began > 3_600_000) throw new Error(`the broker processed only ${processed} of ${size} submissions in an hour`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const processMs = Date.now() - began;
    const producerRss = rssOfPidMiB(producer.pid);
    await producer.stop();

    const restores = await repeatRuns(`recovery: restore of ${size}`, runsFromEnv(), () => restoreOnce(kafka, admin, config, env));

    progress(`recovery: replaying task.events of ${size} tasks into a fresh schema`);
    const replaySchema = `${config.databaseSchema}_replay`;
    let replay;
    try {
      replay = { ...(await replayInto(config, replaySchema)), loadAverage1m: loadAverage1m() };
    } finally {
      await dropSchemas(config.databaseUrl, [replaySchema]);
    }
    return {
      liveTasks: size,
      partitions: config.partitions,
      make: {
        submitMs,
        submitPerSecond: Math.round((size / submitMs) * 1000),
        processMs,
        processedPerSecond: Math.round((size / processMs) * 1000),
        brokerRssMiB: producerRss,
        loadAverage1m: loadAverage1m(),
      },
      restore: restores,
      replay,
    };
  } finally {
    await admin.disconnect();
    await cleanUp(kafka, config, false);
  }
}

async function recovery(): Promise<Record<string, unknown>> {
  const sizes = sizesFromEnv();
  const results: Record<string, unknown>[] = [];
  for (const size of sizes) results.push(await recoveryOfSize(size));
  const atTarget = results.find((r) => r.liveTasks === TARGET.tasks) as { restore?: { figures?: Record<string, { median: number }> }; replay?: { eventsPerSecond: number } } | undefined;
  const readyMedian = atTarget?.restore?.figures?.readyMs?.median;
  return {
    sizes,
    target: `${TARGET.tasks} live tasks ready in < ${TARGET.readyMs} ms; replay ≥ ${TARGET.replayEventsPerSecond} events/s`,
    ...(readyMedian === undefined ? {} : { meetsTarget: { restore: readyMedian < TARGET.readyMs, replay: (atTarget?.replay?.eventsPerSecond ?? 0) >= TARGET.replayEventsPerSecond } }),
    results,
    note:
      'readyMs = from spawning `stackl broker` until it printed "broker ready" (Node start, topic check, group join, fencing, barrier, changelog read, committed offsets); ' +
      'restoreMs = the processor\'s own log: assignment to restored; servesMs = until a SubmitTask sent just before the start reached task.events. ' +
      'Replay = replayProjection of the task.events the broker wrote (TaskSubmitted + AttemptDispatched per task), migrations included, one run.',
  };
}

export const recoveryBenchmarks = { recovery };

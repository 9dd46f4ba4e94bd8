// End to end through the broker and a channel (BENCH_CHANNEL=kafka|redis): submit N
// probe tasks that succeed at once, and measure until every one is complete. Two ends:
//  - `events` (the probe-e2e benchmark): a read-committed consumer of task.events has seen
//    every TaskCompleted;
//  - `postgres` (issue 6, used by e2e-vs-bullmq and kafka-ceiling): the projector runs
//    too, and every task reads Completed in PostgreSQL, as the API would show it.
// runProbeBurst is shared so the comparisons run exactly the workload probe-e2e runs.
import pg from 'pg';
import type { Kafka } from 'kafkajs';
import { loadConfig, type StacklConfig } from '../core/config.js';
import { KafkaBrokerClient } from '../processors/broker/kafka-broker-client.js';
import { startLifecycleApp } from '../processors/broker/kafka/lifecycle-app.js';
import { PROJECTOR_NAME, startProjector, type RunningProjector } from '../processors/projection/index.js';
import { decode, taskEventSchema } from '../schemas/index.js';
import { catalogue } from '../topics/catalogue.js';
import { createKafka } from '../topics/kafka.js';
import { topicNames } from '../topics/names.js';
import { startRelay } from '../channels/start-relay.js';
import { startWorker } from '../workers/start-worker.js';
import { ProjectionWatch } from './projection-watch.js';
import { tallyTopics, type TopicTally } from './record-count.js';
import { envInt, progress, rssMiB, runStamp, summarize, waitUntil } from './stats.js';

/** The worker concurrency of the end-to-end burst; peers (BullMQ) use the same. */
export const PROBE_WORKER_CONCURRENCY = 32;
/** Submissions per produce request, as a bulk producer would send them. */
export const PROBE_SUBMIT_CHUNK = 500;

export interface ProbeBurstOptions {
  tasks: number;
  concurrency: number;
  channel: string;
  completion: 'events' | 'postgres';
  /** After the timed part, count the records STACKL wrote to each of its topics. */
  countRecords?: boolean;
}

export interface ProbeBurstResult {
  tasks: number;
  channel: string;
  completion: 'events' | 'postgres';
  workerConcurrency: number;
  partitions: number;
  elapsedMs: number;
  tasksPerSecond: number;
  submitToCompletedMs: ReturnType<typeof summarize>;
  rssMiB: number;
  /** Records per topic, keyed by the topic's name without the run's prefix (`task.events`, …). */
  records?: Record<string, TopicTally>;
}

export function probeOptionsFromEnv(completion: ProbeBurstOptions['completion']): ProbeBurstOptions {
  return {
    tasks: envInt('BENCH_TASKS', 20_000),
    concurrency: envInt('BENCH_WORKER_CONCURRENCY', PROBE_WORKER_CONCURRENCY),
    channel: process.env.BENCH_CHANNEL ?? 'kafka',
    completion,
  };
}

/** How the burst knows a task is complete; both are started before the clock starts. */
interface CompletionObserver {
  done(): boolean;
  /** Latencies and the end of the timed part, once done. */
  finish(submittedAt: Map<string, number>): Promise<{ latencies: number[]; endedAt: number }>;
  stop(): Promise<void>;
}

export async function runProbeBurst(options: ProbeBurstOptions): Promise<ProbeBurstResult> {
  const stamp = runStamp();
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.e2e.${stamp}.`, STACKL_DB_SCHEMA: `bench_e2e_${stamp}` });
  const topics = topicNames(config.topicPrefix);
  const kafka = createKafka(config, 'bench');
  const { tasks, channel } = options;
  try {
    const broker = await startLifecycleApp(config, { clientId: 'bench-broker' });
    const relay = channel === 'redis' ? await startRelay(config) : undefined;
    const worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: String(options.concurrency), STACKL_CHANNEL: channel });
    const observer = options.completion === 'events' ? await observeEvents(kafka, config, tasks) : await observeProjection(config, tasks);
    const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);

    const submittedAt = new Map<string, number>();
    const began = Date.now();
    for (let i = 0; i < tasks; i += PROBE_SUBMIT_CHUNK) {
      const batch = Array.from({ length: Math.min(PROBE_SUBMIT_CHUNK, tasks - i) }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } }));
      const sentAt = Date.now();
      for (const receipt of await client.submitMany(batch)) submittedAt.set(receipt.taskId, sentAt);
    }
    progress(`submitted ${tasks} probe tasks in ${Date.now() - began} ms`);
    await waitUntil(() => observer.done(), 600_000, `every task to be complete (${options.completion})`);
    const { latencies, endedAt } = await observer.finish(submittedAt);
    const elapsedMs = endedAt - began;
    const rss = rssMiB();

    await observer.stop();
    await client.close();
    await worker.stop();
    await relay?.stop();
    await broker.stop();
    const records = options.countRecords ? await countRecords(kafka, config) : undefined;
    return {
      tasks,
      channel,
      completion: options.completion,
      workerConcurrency: options.concurrency,
      partitions: config.partitions,
      elapsedMs,
      tasksPerSecond: Math.round((tasks / elapsedMs) * 1000),
      submitToCompletedMs: summarize(latencies),
      rssMiB: rss,
      ...(records === undefined ? {} : { records }),
    };
  } finally {
    await cleanUp(kafka, config, options.completion === 'postgres');
  }
}

async function observeEvents(kafka: Kafka, config: StacklConfig, tasks: number): Promise<CompletionObserver> {
  const completedAt = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `${config.topicPrefix}bench-observer`, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: topicNames(config.topicPrefix).events, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) {
        const event = await decode(message.value ?? Buffer.alloc(0), taskEventSchema);
        if (event.type === 'TaskCompleted') completedAt.set(event.taskId, now);
      }
    },
  });
  return {
    done: () => completedAt.size >= tasks,
    async finish(submittedAt) {
      const latencies = [...completedAt].map(([id, at]) => at - (submittedAt.get(id) ?? at));
      return { latencies, endedAt: [...completedAt.values()].reduce((a, b) => Math.max(a, b), 0) };
    },
    stop: () => consumer.disconnect(),
  };
}

async function observeProjection(config: StacklConfig, tasks: number): Promise<CompletionObserver> {
  // The projector migrates its schema and joins its group before the clock starts.
  const projector: RunningProjector = await startProjector(config, { clientId: 'bench-projector' });
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  const watch = new ProjectionWatch(pool, { schema: config.databaseSchema, topic: topicNames(config.topicPrefix).events, projector: PROJECTOR_NAME }, config.partitions);
  watch.start();
  return {
    done: () => watch.completed >= tasks,
    async finish(submittedAt) {
      await watch.stop();
      const { latencies, lastVisibleAt, unresolved } = await watch.visibility(submittedAt);
      if (unresolved > 0) progress(`${unresolved} completed rows could not be placed on the offset timeline`);
      return { latencies, endedAt: lastVisibleAt };
    },
    async stop() {
      await watch.stop();
      await projector.stop();
      await pool.end();
    },
  };
}

async function countRecords(kafka: Kafka, config: StacklConfig): Promise<Record<string, TopicTally>> {
  const names = catalogue({ prefix: config.topicPrefix, partitions: config.partitions }).map((t) => t.name);
  const tally = await tallyTopics(kafka, names, `${config.topicPrefix}bench-record-count`);
  return Object.fromEntries(Object.entries(tally).map(([topic, t]) => [topic.slice(config.topicPrefix.length), t]));
}

/** The run's topics, groups and schema are of no use afterwards; leaving them would fill the dev broker. */
export async function cleanUp(kafka: Kafka, config: StacklConfig, dropSchema: boolean): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const ours = (await admin.listTopics()).filter((t) => t.startsWith(config.topicPrefix));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(config.topicPrefix));
    if (groups.length > 0) await admin.deleteGroups(groups);
  } catch (error) {
    progress(`could not delete the run's topics: ${(error as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
  if (!dropSchema) return;
  const client = new pg.Client({ connectionString: config.databaseUrl });
  try {
    await client.connect();
    await client.query(`drop schema if exists ${pg.escapeIdentifier(config.databaseSchema)} cascade`);
  } catch (error) {
    progress(`could not drop schema ${config.databaseSchema}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeBurst(): Promise<Record<string, unknown>> {
  const result = await runProbeBurst(probeOptionsFromEnv('events'));
  return {
    tasks: result.tasks,
    channel: result.channel,
    workerConcurrency: result.workerConcurrency,
    partitions: result.partitions,
    tasksPerSecond: result.tasksPerSecond,
    submitToCompletedMs: result.submitToCompletedMs,
    rssMiB: result.rssMiB,
    note: 'broker, worker and observer in one process; completion = TaskCompleted seen by a read-committed consumer',
  };
}

export const probeBenchmarks = { 'probe-e2e': probeBurst };

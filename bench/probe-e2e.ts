// End to end through the broker (BENCH_BROKER=kafka|custom) and a channel
// (BENCH_CHANNEL=kafka|redis|rabbitmq; bench-stack.ts): submit N probe tasks that succeed
// at once, and measure until every one is complete. Two ends:
//  - `events` (the probe-e2e benchmark): a read-committed consumer of task.events has seen
//    every TaskCompleted (Kafka broker only: the custom broker has no task.events);
//  - `postgres` (issue 6, used by e2e-vs-bullmq and kafka-ceiling): the projector runs
//    too, and every task reads Completed in PostgreSQL, as the API would show it.
// runProbeBurst is shared so the comparisons run exactly the workload probe-e2e runs.
import pg from 'pg';
import type { Kafka } from 'kafkajs';
import type { StacklConfig } from '../core/config.js';
import { PROJECTOR_NAME, startProjector, type RunningProjector } from '../processors/projection/index.js';
import { decode, taskEventSchema } from '../schemas/index.js';
import { catalogue } from '../topics/catalogue.js';
import { createKafka } from '../topics/kafka.js';
import { topicNames } from '../topics/names.js';
import { benchConfig, cleanUpRun, startBrokerSide, stackChoiceFromEnv, statusCounts, submitterFor, type BenchBroker, type StackChoice } from './bench-stack.js';
import { ProjectionWatch } from './projection-watch.js';
import { tallyTopics, type TopicTally } from './record-count.js';
import { envInt, progress, rssMiB, runStamp, summarize, waitUntil } from './stats.js';
// Kept importable from here, where the other benchmarks have always found it.
export { cleanUp } from './clean-up.js';

/** The worker concurrency of the end-to-end burst; peers (BullMQ) use the same. */
export const PROBE_WORKER_CONCURRENCY = 32;
/** Submissions per produce request, as a bulk producer would send them. */
export const PROBE_SUBMIT_CHUNK = 500;

export interface ProbeBurstOptions {
  tasks: number;
  concurrency: number;
  /** Broker and channel (StackChoice): bench-stack.ts. */
  broker: BenchBroker;
  channel: StackChoice['channel'];
  completion: 'events' | 'postgres';
  /** After the timed part, count the records STACKL wrote to each of its topics. */
  countRecords?: boolean;
}

export interface ProbeBurstResult {
  tasks: number;
  broker: BenchBroker;
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
    ...stackChoiceFromEnv(),
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
  const choice: StackChoice = { broker: options.broker, channel: options.channel };
  if (choice.broker === 'custom' && options.completion === 'events') throw new Error('completion by task.events needs the Kafka broker; with BENCH_BROKER=custom run e2e-vs-bullmq or brokers (completion in PostgreSQL)');
  const config = benchConfig(choice, `bench.e2e.${stamp}.`, `bench_e2e_${stamp}`);
  const kafka = createKafka(config, 'bench');
  const { tasks, channel } = options;
  try {
    const roles = await startBrokerSide(choice, config, options.concurrency);
    const observer = options.completion === 'events' ? await observeEvents(kafka, config, tasks) : await observeProjection(config, tasks);
    const client = submitterFor(choice, config, kafka);

    const submittedAt = new Map<string, number>();
    const began = Date.now();
    for (let i = 0; i < tasks; i += PROBE_SUBMIT_CHUNK) {
      const batch = Array.from({ length: Math.min(PROBE_SUBMIT_CHUNK, tasks - i) }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } }));
      const sentAt = Date.now();
      for (const receipt of await client.submitMany(batch)) submittedAt.set(receipt.taskId, sentAt);
    }
    progress(`submitted ${tasks} probe tasks in ${Date.now() - began} ms`);
    await waitUntil(() => observer.done(), 600_000, `every task to be complete (${options.completion})`).catch(async (error: unknown) => {
      if (options.completion === 'postgres') progress(`tasks by status when the burst gave up: ${JSON.stringify(await statusCounts(config))}`);
      throw error;
    });
    const { latencies, endedAt } = await observer.finish(submittedAt);
    const elapsedMs = endedAt - began;
    const rss = rssMiB();

    await observer.stop();
    await client.close();
    await roles.stop();
    // The custom broker writes no Kafka topic: there is nothing to count.
    const records = options.countRecords && choice.broker === 'kafka' ? await countRecords(kafka, config) : undefined;
    return {
      tasks,
      broker: choice.broker,
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
    await cleanUpRun(choice, kafka, config, options.completion === 'postgres');
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

async function probeBurst(): Promise<Record<string, unknown>> {
  const result = await runProbeBurst(probeOptionsFromEnv('events'));
  return {
    tasks: result.tasks,
    broker: result.broker,
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

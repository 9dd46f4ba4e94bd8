// kafka-ceiling (issue 6): how close STACKL's end to end comes to what Kafka and kafkajs
// alone can move on this machine. Each run first runs STACKL's burst (complete in
// PostgreSQL) and counts the records it wrote to and read from each topic, then has
// kafkajs alone write and read that many records per task (ceiling-workload.ts).
// STACKL's fraction = its records/s over the ceiling's records/s.
import { loadConfig } from '../core/config.js';
import { createKafka } from '../topics/kafka.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames } from '../topics/names.js';
import { runCeiling, type TopicLoad } from './ceiling-workload.js';
import { PROBE_SUBMIT_CHUNK, probeOptionsFromEnv, runProbeBurst } from './probe-e2e.js';
import type { TopicTally } from './record-count.js';
import { repeatRuns, runsFromEnv } from './repeat.js';
import { runStamp } from './stats.js';

// Who writes and who reads each topic during a burst (DESIGN.md §3). Names without
// the run's prefix come from the one module that names topics.
const plain = topicNames('');
const CHANGELOG = changelogTopic('', LIFECYCLE_APP, LIFECYCLE_TABLE);
const ROLES: Record<string, { writer: string; reader?: string }> = {
  [plain.requests]: { writer: 'client', reader: 'processor' },
  [plain.results]: { writer: 'worker', reader: 'processor' },
  // With BENCH_CHANNEL=redis the relay reads it instead of the worker: one read all the same.
  [plain.dispatch]: { writer: 'processor', reader: 'worker' },
  [plain.rollbacks]: { writer: 'processor', reader: 'worker' },
  [plain.events]: { writer: 'processor', reader: 'projector' },
  // Read only to restore state on assignment, which a burst on fresh topics never does.
  [CHANGELOG]: { writer: 'processor' },
};

interface PerTask {
  written: Record<string, number>;
  read: Record<string, number>;
  writtenTotal: number;
  readTotal: number;
}

function perTask(records: Record<string, TopicTally>, tasks: number): PerTask {
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  const written = Object.fromEntries(Object.entries(records).filter(([, t]) => t.records > 0).map(([topic, t]) => [topic, round(t.records / tasks)]));
  const read = Object.fromEntries(Object.entries(written).filter(([topic]) => ROLES[topic]?.reader !== undefined));
  const sum = (r: Record<string, number>): number => round(Object.values(r).reduce((a, b) => a + b, 0));
  return { written, read, writtenTotal: sum(written), readTotal: sum(read) };
}

async function kafkaCeiling(): Promise<Record<string, unknown>> {
  const options = { ...probeOptionsFromEnv('postgres'), countRecords: true };
  // The ceiling is Kafka's: the custom broker writes no Kafka records to hold against it.
  if (options.broker !== 'kafka') throw new Error('kafka-ceiling measures the Kafka broker; it does not run with BENCH_BROKER=custom');
  const repeated = await repeatRuns('kafka-ceiling', runsFromEnv(), async () => {
    const stackl = await runProbeBurst(options);
    const records = stackl.records ?? {};
    const counts = perTask(records, stackl.tasks);
    const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.ceiling.${runStamp()}.` });
    const loads: TopicLoad[] = Object.entries(records)
      .filter(([, t]) => t.records > 0)
      .map(([topic, t]) => ({
        topic: `${config.topicPrefix}${topic}`,
        records: t.records,
        bytes: t.bytes / t.records,
        writer: ROLES[topic]?.writer ?? 'processor',
        ...(ROLES[topic]?.reader === undefined ? {} : { reader: ROLES[topic]?.reader }),
        compacted: topic === CHANGELOG,
      }));
    const kafka = createKafka(config, 'bench-ceiling');
    const ceiling = await runCeiling(kafka, config.topicPrefix, config.partitions, loads, Math.ceil(stackl.tasks / PROBE_SUBMIT_CHUNK));
    const stacklRecordsPerSecond = Math.round((((counts.writtenTotal + counts.readTotal) * stackl.tasks) / stackl.elapsedMs) * 1000);
    return {
      figures: {
        'stackl.tasksPerSecond': stackl.tasksPerSecond,
        'stackl.recordsPerSecond': stacklRecordsPerSecond,
        'ceiling.recordsPerSecond': ceiling.recordsPerSecond,
        'ceiling.writtenPerSecond': ceiling.writtenPerSecond,
        'ceiling.readPerSecond': ceiling.readPerSecond,
        'ceiling.tasksPerSecond': Math.round((stackl.tasks / ceiling.elapsedMs) * 1000),
        stacklFraction: Math.round((stacklRecordsPerSecond / ceiling.recordsPerSecond) * 1000) / 1000,
        'recordsPerTask.written': counts.writtenTotal,
        'recordsPerTask.read': counts.readTotal,
      },
      detail: {
        recordsPerTask: counts,
        recordBytes: Object.fromEntries(loads.map((l) => [l.topic.slice(config.topicPrefix.length), Math.round(l.bytes)])),
        stackl: { ...stackl, records: undefined },
        ceiling,
      },
    };
  });
  return {
    tasks: options.tasks,
    workerConcurrency: options.concurrency,
    channel: options.channel,
    ...repeated,
    note:
      'recordsPerTask is counted from STACKL\'s topics after each burst (read committed). Lifecycle of one probe task: written = 1 request + 1 result (succeeded; a quick probe ' +
      'reports no start of its own since ca05fa5, the broker records the start with the result) + 1 dispatch + 5 events (Submitted, Dispatched, Started, Succeeded, Completed) ' +
      '+ 2 changelog puts (one per input record, coalesced when inputs of a task share a transaction); ' +
      'read = request + 1 result (processor) + dispatch (worker) + 5 events (projector). The ceiling writes and reads the same counts with kafkajs alone, ' +
      'without decoding, state, transactions or PostgreSQL; stacklFraction = STACKL records/s / ceiling records/s.',
  };
}

export const ceilingBenchmarks = { 'kafka-ceiling': kafkaCeiling };

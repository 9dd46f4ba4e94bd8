// Benchmark of the PostgreSQL projection (processors/projection/):
//  - projection-throughput: a backlog of N task events (BENCH_EVENTS, default 200,000),
//    written as the lifecycle processor writes them (keyed, transactional), projected
//    from scratch into a fresh schema; then the same log replayed into another schema,
//    and both compared row for row. The replay step is shared with recovery (replayInto).
import pg from 'pg';
import { loadConfig } from '../core/config.js';
import { uuidV7 } from '../processors/broker/ids.js';
import { compareProjections, replayProjection, startProjector, type ReplayProgress } from '../processors/projection/index.js';
import { encode, taskEventSchema, type TaskEventMessage } from '../schemas/index.js';
import { ensureTopics } from '../topics/admin.js';
import { catalogueFor } from '../topics/catalogue.js';
import { createKafka } from '../topics/kafka.js';
import { topicNames } from '../topics/names.js';
import { partitionForKey } from '../topics/partitioner.js';
import { progress } from './stats.js';

const int = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

/** One task's events: 9 in 10 complete (5 events), 1 in 10 fails and is rolled back (7). */
function lifecycle(i: number, t0: number): TaskEventMessage[] {
  const taskId = uuidV7(t0 + i);
  const spec = {
    id: taskId, kind: 'probe', action: 'run', payload: JSON.stringify({ outcome: i % 10 === 0 ? 'fail' : 'succeed', n: i }),
    origin: { type: 'none' as const, target: null }, idempotencyKey: taskId, timeoutMs: 300_000, attemptTimeoutMs: null, heartbeatTimeoutMs: null,
    maxAttempts: 1, retryBackoff: { initialMs: 1000, multiplier: 2, maxMs: 60_000 }, rollbackMaxAttempts: 5,
    rollbackBackoff: { initialMs: 1000, multiplier: 2, maxMs: 60_000 }, submittedAt: t0 + i,
  };
  const bodies: Pick<TaskEventMessage, 'type' | 'body'>[] = [
    { type: 'TaskSubmitted', body: { task: spec, deadlineAt: t0 + i + 300_000 } },
    { type: 'AttemptDispatched', body: { attempt: 1, deadlineAt: t0 + i + 300_000 } },
    { type: 'AttemptStarted', body: { attempt: 1, workerId: 'bench-worker', heartbeatDeadlineAt: null } },
    ...(i % 10 === 0
      ? ([
          { type: 'AttemptFailed', body: { attempt: 1, reason: 'error', message: 'scripted failure', retryAt: null } },
          { type: 'TaskFailed', body: { reason: 'error', message: 'scripted failure' } },
          { type: 'RollbackDispatched', body: { rollbackAttempt: 1, deadlineAt: t0 + i + 400_000 } },
          { type: 'RollbackSucceeded', body: { rollbackAttempt: 1 } },
        ] as const)
      : ([
          { type: 'AttemptSucceeded', body: { attempt: 1, output: JSON.stringify({ attempt: 1, n: i }) } },
          { type: 'TaskCompleted', body: { output: JSON.stringify({ attempt: 1, n: i }) } },
        ] as const)),
  ];
  return bodies.map((b, k) => ({ eventId: crypto.randomUUID(), taskId, sequence: k + 1, time: t0 + i + k * 10, causationId: null, correlationId: null, ...b }) as TaskEventMessage);
}

/** Writes about `count` events in transactions of ~2,000, tasks interleaved in waves as a busy broker would. */
async function writeLog(config: ReturnType<typeof loadConfig>, count: number): Promise<number> {
  const kafka = createKafka(config, 'bench-projection-writer');
  const producer = kafka.producer({ transactionalId: `${config.topicPrefix}bench-writer`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const topic = topicNames(config.topicPrefix).events;
  const t0 = Date.now();
  let written = 0;
  try {
    for (let wave = 0; written < count; wave++) {
      const tasks = Array.from({ length: 400 }, (_, j) => lifecycle(wave * 400 + j, t0));
      const longest = Math.max(...tasks.map((t) => t.length));
      const messages = [];
      for (let step = 0; step < longest; step++) {
        for (const events of tasks) {
          const event = events[step];
          if (event) messages.push({ key: event.taskId, value: encode(taskEventSchema, event), partition: partitionForKey(event.taskId, config.partitions) });
        }
      }
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages });
      await transaction.commit();
      written += messages.length;
      if (wave % 25 === 0) progress(`wrote ${written}/${count} events`);
    }
  } finally {
    await producer.disconnect();
  }
  return written;
}

async function throughput(): Promise<Record<string, unknown>> {
  const target = int('BENCH_EVENTS', 200_000);
  const stamp = Date.now().toString(36);
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.projection.${stamp}.`, STACKL_DB_SCHEMA: `bench_projection_${stamp}` });
  const admin = createKafka(config, 'bench-projection-admin').admin();
  await admin.connect();
  const replaySchema = `${config.databaseSchema}_replay`;
  try {
    await ensureTopics(admin, catalogueFor(config));
    const writeBegan = Date.now();
    const events = await writeLog(config, target);
    const writeMs = Date.now() - writeBegan;

    progress(`projecting a backlog of ${events} events`);
    const began = Date.now();
    const projector = await startProjector(config, { clientId: 'bench-projector' });
    const startMs = Date.now() - began;
    while ((await projector.lag()).total > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const projectMs = Date.now() - began;
    const stats = projector.stats();
    await projector.stop();

    progress('replaying the same log into a fresh schema');
    const replay = await replayInto(config, replaySchema);
    const differences = await compareProjections(config.databaseUrl, config.databaseSchema, replaySchema, { limit: 10 });
    return {
      events,
      partitions: config.partitions,
      write: { ms: writeMs, eventsPerSecond: Math.round((events / writeMs) * 1000) },
      projection: {
        ms: projectMs,
        eventsPerSecond: Math.round((stats.events / projectMs) * 1000),
        startMs,
        batches: stats.batches,
        eventsPerBatch: Math.round(stats.events / Math.max(1, stats.batches)),
        includes: 'migrations, topic check, group join and seek (startMs)',
      },
      replay: { ms: replay.ms, events: replay.events, eventsPerSecond: replay.eventsPerSecond },
      replayEqualsProjection: differences.length === 0,
    };
  } finally {
    await dropSchemas(config.databaseUrl, [config.databaseSchema, replaySchema]);
    await admin.deleteTopics({ topics: catalogueFor(config).map((t) => t.name) }).catch(() => {});
    await admin.disconnect();
  }
}

/** Replays the run's task.events into a fresh schema (kept: the caller compares or drops it); shared with recovery. */
export async function replayInto(config: ReturnType<typeof loadConfig>, schema: string): Promise<{ ms: number; events: number; eventsPerSecond: number }> {
  const onProgress = (p: ReplayProgress): void => progress(`replay: ${p.done}/${p.total} log offsets, ${p.eventsPerSecond} events/s`);
  const replay = await replayProjection({ config, schema, onProgress, progressIntervalMs: 10_000 });
  return { ms: replay.ms, events: replay.events, eventsPerSecond: replay.eventsPerSecond };
}

export async function dropSchemas(databaseUrl: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
  } finally {
    await client.end();
  }
}

export const projectionBenchmarks = {
  'projection-throughput': throughput,
};

// Rebuilds a projection from the log (DESIGN.md §1: any projection can be replayed):
// a fresh schema, a throwaway consumer group, the same batch writer as the projector,
// from the beginning of task.events up to the end offsets taken when the replay starts.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StacklConfig } from '../../core/config.js';
import { StacklError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { migrate } from '../../deploy/migrations/runner.js';
import { createKafka } from '../../topics/kafka.js';
import { consumerGroup, topicNames } from '../../topics/names.js';
import { logBounds } from './lag.js';
import { ensureOffsetRows, PROJECTOR_NAME } from './offsets.js';
import { ProjectionConsumer } from './projection-consumer.js';
import { useConfiguredReader } from '../../topics/schema-registration.js';

export interface ReplayProgress {
  /** Log offsets projected so far (events, plus the transaction markers between them). */
  done: number;
  total: number;
  /** Events written per second since the replay began. */
  eventsPerSecond: number;
  elapsedMs: number;
}

export interface ReplayOptions {
  config: StacklConfig;
  /** A schema with no projection in it yet; created and migrated when missing. */
  schema: string;
  onProgress?: (progress: ReplayProgress) => void;
  progressIntervalMs?: number;
}

export interface ReplayResult {
  schema: string;
  /** Per partition, the end offset the replay stopped at. */
  through: Map<number, number>;
  events: number;
  ms: number;
  eventsPerSecond: number;
}

export async function replayProjection({ config, schema, onProgress, progressIntervalMs = 1000 }: ReplayOptions): Promise<ReplayResult> {
  const began = Date.now();
  useConfiguredReader(config);
  await migrate(config.databaseUrl, schema);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5 });
  pool.on('error', () => {});
  const kafka = createKafka(config, 'stackl-replay');
  const admin = kafka.admin();
  const topics = topicNames(config.topicPrefix);
  const key = { schema, topic: topics.events, projector: PROJECTOR_NAME };
  const groupId = consumerGroup(config.topicPrefix, `replay-${randomBytes(4).toString('hex')}`);
  let consumer: ProjectionConsumer | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await assertEmpty(pool, schema);
    await admin.connect();
    const bounds = await logBounds(admin, topics.events);
    const through = new Map([...bounds].map(([p, b]) => [p, b.end]));
    await ensureOffsetRows(pool, key, bounds.size);
    let fatal: (error: unknown) => void = () => {};
    const failed = new Promise<never>((_, reject) => (fatal = reject));
    // Dead letters are recorded in the replay's schema, as the live projector records them,
    // but not sent: the live projector sent each one when it first read the record.
    consumer = new ProjectionConsumer({ kafka, pool, key, groupId, dlqTopic: topics.dlq, logger: createLogger({ component: 'replay', schema }), stopAt: through, onFatal: fatal, publishDeadLetters: false });
    const running = consumer;
    const progress = (): ReplayProgress => {
      const elapsedMs = Date.now() - began;
      let done = 0;
      let total = 0;
      for (const [p, b] of bounds) {
        total += b.end - b.low;
        done += Math.max(0, Math.min(b.end, running.partitions.position(p) ?? b.low) - b.low);
      }
      return { done, total, eventsPerSecond: Math.round((running.stats().events / Math.max(1, elapsedMs)) * 1000), elapsedMs };
    };
    if (onProgress) timer = setInterval(() => onProgress(progress()), progressIntervalMs);
    await Promise.race([consumer.start().then(() => running.partitions.finished()), failed]);
    onProgress?.(progress());
    const ms = Date.now() - began;
    const events = running.stats().events;
    return { schema, through, events, ms, eventsPerSecond: Math.round((events / Math.max(1, ms)) * 1000) };
  } finally {
    if (timer) clearInterval(timer);
    await consumer?.stop().catch(() => {});
    // The group never committed anything; deleting it leaves no trace on the cluster.
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
    await pool.end().catch(() => {});
  }
}

async function assertEmpty(pool: pg.Pool, schema: string): Promise<void> {
  const s = pg.escapeIdentifier(schema);
  const { rows } = await pool.query<{ used: boolean }>(
    `select exists (select 1 from ${s}.task_events) or exists (select 1 from ${s}.tasks) or exists (select 1 from ${s}.projection_offsets where next_offset > 0) as used`,
  );
  if (rows[0]?.used) {
    throw new StacklError('REPLAY_TARGET_NOT_EMPTY', `schema ${schema} already holds a projection; replay into a fresh schema (or drop this one first)`, { httpStatus: 409 });
  }
}

// The projector role: task.events → PostgreSQL (DESIGN.md §7). Any number of instances
// share the partitions through the consumer group; PostgreSQL holds the positions. With
// the custom broker (STACKL_BROKER=custom) the log is the table broker_events instead,
// and no Kafka client exists at all (table-projection.ts).
import pg from 'pg';
import type { StacklConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { ensureMigrated } from '../../deploy/migrations/runner.js';
import { ensureTopics } from '../../topics/admin.js';
import { catalogueFor } from '../../topics/catalogue.js';
import { createKafka } from '../../topics/kafka.js';
import { consumerGroup, topicNames } from '../../topics/names.js';
import { projectionLag, type ProjectionLag } from './lag.js';
import type { DeadLetterPublishing } from './dead-letter-publisher.js';
import { ensureOffsetRows, projectedThrough, PROJECTOR_NAME, waitForProjection } from './offsets.js';
import { ProjectionConsumer, type ProjectionStats } from './projection-consumer.js';
import { startTableProjection } from './table-projection.js';
import { useConfiguredWireFormat } from '../../topics/schema-registration.js';

/** The consumer group app name of the projector (topics/names.ts derives the group). */
export const PROJECTOR_APP = 'projector';

/**
 * Each slot holds a PostgreSQL connection: a deployment of hundreds of partitions must not
 * open hundreds (PostgreSQL's default max_connections is 100, shared with every role).
 */
const DEFAULT_MAX_CONCURRENCY = 16;

export interface ProjectorOptions {
  clientId?: string;
  /**
   * Partitions projected at once by this instance. Default: every partition, up to
   * DEFAULT_MAX_CONCURRENCY. kafkajs fetches again only once the last fetch's batches are
   * all written, so with fewer slots than partitions a fetch took two rounds of PostgreSQL
   * commits (issue 18).
   */
  concurrency?: number;
  /** The consumer stopped for good; a role should exit so its supervisor restarts it (never with the custom broker: it retries). */
  onFatal?: (error: unknown) => void;
  /** How dead letters are published: sweep interval, and a hook for tests. */
  deadLetterPublishing?: DeadLetterPublishing;
}

export interface RunningProjector {
  stop(): Promise<void>;
  stats(): ProjectionStats;
  /** Events of task.events not yet in PostgreSQL, per partition and in total. */
  lag(): Promise<ProjectionLag>;
  /** The next offset of `partition` to project: every event before it is in PostgreSQL. */
  projectedThrough(partition: number): Promise<number>;
  /** Waits until projectedThrough(partition) >= offset; false on timeout. */
  waitFor(partition: number, offset: number, timeoutMs: number): Promise<boolean>;
}

/** Applies the migrations, creates or verifies the topics, then projects until stopped. */
export async function startProjector(config: StacklConfig, options: ProjectorOptions = {}): Promise<RunningProjector> {
  const logger = createLogger({ component: 'projector', schema: config.databaseSchema });
  await useConfiguredWireFormat(config);
  await ensureMigrated(config.databaseUrl, config.databaseSchema, config.migrate);
  const concurrency = options.concurrency ?? Math.min(config.partitions, DEFAULT_MAX_CONCURRENCY);
  if (config.broker === 'custom') {
    // The same app name as the Kafka projector's group, so dead-letter rows read the same either way.
    return startTableProjection(config, { app: consumerGroup(config.topicPrefix, PROJECTOR_APP), concurrency, logger });
  }
  const topics = topicNames(config.topicPrefix);
  const kafka = createKafka(config, options.clientId ?? 'stackl-projector');
  const admin = kafka.admin();
  // One connection per partition projected at once, plus stored offsets, markers and the dead-letter publisher.
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: concurrency + 3 });
  // An idle connection that drops is replaced on next use; without a listener it would crash the process.
  pool.on('error', (error) => logger.warn('idle PostgreSQL connection failed', { error }));
  const key = { schema: config.databaseSchema, topic: topics.events, projector: PROJECTOR_NAME };
  let consumer: ProjectionConsumer | undefined;
  try {
    await admin.connect();
    await ensureTopics(admin, catalogueFor(config));
    await ensureOffsetRows(pool, key, config.partitions);
    consumer = new ProjectionConsumer({
      kafka,
      pool,
      key,
      groupId: consumerGroup(config.topicPrefix, PROJECTOR_APP),
      dlqTopic: topics.dlq,
      logger,
      concurrency,
      ...(options.onFatal === undefined ? {} : { onFatal: options.onFatal }),
      ...(options.deadLetterPublishing === undefined ? {} : { deadLetterPublishing: options.deadLetterPublishing }),
    });
    await consumer.start();
  } catch (error) {
    await consumer?.stop().catch(() => {});
    await admin.disconnect().catch(() => {});
    await pool.end().catch(() => {});
    throw error;
  }
  const running = consumer;
  let stopped: Promise<void> | undefined;
  return {
    // Idempotent: a role's signal handler and a test's cleanup may both stop it.
    stop: () =>
      (stopped ??= (async () => {
        await running.stop();
        await admin.disconnect();
        await pool.end();
      })()),
    stats: () => running.stats(),
    lag: () => projectionLag(admin, pool, key),
    projectedThrough: (partition) => projectedThrough(pool, key, partition),
    waitFor: (partition, offset, timeoutMs) => waitForProjection(pool, key, partition, offset, timeoutMs),
  };
}

// Builds the API's dependencies from the configuration: one Kafka client (a producer
// for commands, an admin for positions, readiness and the backlog reading), one
// PostgreSQL pool. The caller owns the result and closes it after the server stopped.
import pg from 'pg';
import type { StacklConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { KafkaBrokerClient } from '../processors/broker/kafka-broker-client.js';
import { createKindRegistry, lifecycleLimitsOf, type KindRegistry } from '../processors/lifecycle/index.js';
import { createKafka } from '../topics/kafka.js';
import type { KindCatalogue } from '../processors/registry/kind-catalogue.js';
import { followKinds } from '../processors/registry/follow-kinds.js';
import { topicNames } from '../topics/names.js';
import { BacklogMonitor, kafkaBacklogReader } from '../topics/backlog.js';
import type { ApiDeps } from './context.js';
import { kafkaDeadLetters } from './dead-letters.js';
import { kafkaPartitions, stacklGroups } from './partitions.js';
import { defaultApiOptions, type ApiOptions } from './options.js';
import { KafkaProjectionProgress } from './projection-progress.js';
import { createReadinessProbe } from './readiness.js';
import { createCustomApiDeps } from './custom-deps.js';

/** Longest GET /dead-letters reads the topic before it answers 503. */
const DEAD_LETTER_READ_TIMEOUT_MS = 20_000;

export interface OwnedApiDeps {
  deps: ApiDeps;
  close(): Promise<void>;
}

export interface ApiDepsOverrides {
  kinds?: KindRegistry;
  options?: Partial<ApiOptions>;
  /** Whose projection_offsets rows to follow; default the projector role's. */
  projector?: string;
  clientId?: string;
}

export async function createApiDeps(config: StacklConfig, overrides: ApiDepsOverrides = {}): Promise<OwnedApiDeps> {
  if (config.broker === 'custom') return createCustomApiDeps(config, overrides);
  const log = createLogger({ component: 'api' });
  const topics = topicNames(config.topicPrefix);
  const kafka = createKafka(config, overrides.clientId ?? 'stackl-api');
  const admin = kafka.admin();
  const options = { ...defaultApiOptions, ...overrides.options };
  // Bounded: without a connection timeout a request waits forever for a pool PostgreSQL no longer serves.
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: options.dbConnectTimeoutMs });
  // An idle connection that drops is replaced on next use; unobserved, its error would end the process.
  pool.on('error', (error) => log.warn('idle PostgreSQL connection failed', { error }));
  const commands = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
  try {
    await admin.connect();
  } catch (error) {
    await pool.end();
    throw error;
  }
  // Fixed kinds (tests) or the live registry; a registry out of reach leaves the built-in kinds.
  let catalogue: KindCatalogue | undefined;
  if (overrides.kinds === undefined) {
    try {
      catalogue = await followKinds(config, kafka, admin);
    } catch (error) {
      await Promise.allSettled([admin.disconnect(), pool.end()]);
      throw error;
    }
  }
  const progress = new KafkaProjectionProgress({
    admin,
    pool,
    schema: config.databaseSchema,
    topics,
    topicPrefix: config.topicPrefix,
    ...(overrides.projector === undefined ? {} : { projector: overrides.projector }),
  });
  const backlog = new BacklogMonitor(kafkaBacklogReader(admin, topics, config.topicPrefix, options.channel), { pollMs: options.backlogPollMs, log });
  backlog.start();
  const deps: ApiDeps = {
    commands,
    pool,
    schema: config.databaseSchema,
    progress,
    readiness: createReadinessProbe(admin, pool, progress),
    backlog,
    kinds: catalogue?.kinds ?? overrides.kinds ?? createKindRegistry(),
    ...(catalogue === undefined ? {} : { catalogue }),
    limits: lifecycleLimitsOf(config),
    partitions: config.partitions,
    ...(overrides.options === undefined ? {} : { options: overrides.options }),
    logger: log,
    deadLetters: kafkaDeadLetters(kafka, topics.dlq, DEAD_LETTER_READ_TIMEOUT_MS),
    partitionReader: kafkaPartitions(admin, stacklGroups(config.topicPrefix, topics)),
  };
  return {
    deps,
    async close() {
      await backlog.stop();
      await catalogue?.stop();
      await Promise.allSettled([commands.close(), admin.disconnect(), pool.end()]);
    },
  };
}

// Builds the API's dependencies from the configuration: one Kafka client (a producer
// for commands, an admin for positions and readiness), one PostgreSQL pool. The
// caller owns the result and closes it after the server stopped.
import pg from 'pg';
import type { StacklConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { KafkaBrokerClient } from '../processors/broker/kafka-broker-client.js';
import { createKindRegistry, lifecycleLimitsOf, type KindRegistry } from '../processors/lifecycle/index.js';
import { createKafka } from '../topics/kafka.js';
import { topicNames } from '../topics/names.js';
import type { ApiDeps } from './context.js';
import type { ApiOptions } from './options.js';
import { KafkaProjectionProgress } from './projection-progress.js';
import { createReadinessProbe } from './readiness.js';

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
  const log = createLogger({ component: 'api' });
  const topics = topicNames(config.topicPrefix);
  const kafka = createKafka(config, overrides.clientId ?? 'stackl-api');
  const admin = kafka.admin();
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  // An idle connection that drops is replaced on next use; unobserved, its error would end the process.
  pool.on('error', (error) => log.warn('idle PostgreSQL connection failed', { error }));
  const commands = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
  try {
    await admin.connect();
  } catch (error) {
    await pool.end();
    throw error;
  }
  const progress = new KafkaProjectionProgress({
    admin,
    pool,
    schema: config.databaseSchema,
    topics,
    topicPrefix: config.topicPrefix,
    ...(overrides.projector === undefined ? {} : { projector: overrides.projector }),
  });
  const deps: ApiDeps = {
    commands,
    pool,
    schema: config.databaseSchema,
    progress,
    readiness: createReadinessProbe(admin, pool, progress),
    kinds: overrides.kinds ?? createKindRegistry(),
    limits: lifecycleLimitsOf(config),
    partitions: config.partitions,
    ...(overrides.options === undefined ? {} : { options: overrides.options }),
    logger: log,
  };
  return {
    deps,
    async close() {
      await Promise.allSettled([commands.close(), admin.disconnect(), pool.end()]);
    },
  };
}

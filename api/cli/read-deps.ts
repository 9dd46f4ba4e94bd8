// The read side for CLI commands: a pool on the projection and, when a command waits
// for a position, a Kafka admin for offsets. Opened per command, closed after it.
import type { Admin } from 'kafkajs';
import pg from 'pg';
import type { StacklConfig } from '../../core/config.js';
import { createKafka } from '../../topics/kafka.js';
import { CustomProjectionProgress } from '../../processors/broker/custom/custom-progress.js';
import { topicNames } from '../../topics/names.js';
import { KafkaProjectionProgress, type ProjectionProgress } from '../projection-progress.js';
import { TaskStore } from '../task-store.js';

export interface ReadDeps {
  store: TaskStore;
  /** Connects to Kafka on first use only: most reads never need it. */
  progress(): Promise<ProjectionProgress>;
}

export async function withReadDeps<T>(config: StacklConfig, work: (deps: ReadDeps) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  pool.on('error', () => {});
  let admin: Admin | undefined;
  let progress: Promise<ProjectionProgress> | undefined;
  const connect = async (): Promise<ProjectionProgress> => {
    // The custom broker's positions live in its tables: no Kafka to ask.
    if (config.broker === 'custom') return new CustomProjectionProgress(pool, config.databaseSchema, topicNames(config.topicPrefix).events, config.partitions);
    admin = createKafka(config, 'stackl-cli').admin();
    await admin.connect();
    return new KafkaProjectionProgress({ admin, pool, schema: config.databaseSchema, topics: topicNames(config.topicPrefix), topicPrefix: config.topicPrefix });
  };
  try {
    return await work({ store: new TaskStore(pool, config.databaseSchema), progress: () => (progress ??= connect()) });
  } finally {
    await admin?.disconnect();
    await pool.end();
  }
}

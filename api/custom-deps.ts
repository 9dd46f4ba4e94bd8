// The API's dependencies with the `custom` broker (STACKL_BROKER=custom): no Kafka at all.
// Commands go to the broker's inbox table, positions and lag come from its tables, and
// readiness's `kafka` check (the broker's log answers) asks whether a custom broker lives.
import pg from 'pg';
import type { StacklConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { CustomProjectionProgress } from '../processors/broker/custom/custom-progress.js';
import { InboxClient } from '../processors/broker/custom/inbox-client.js';
import { brokerTables } from '../processors/broker/custom/tables.js';
import { TableKinds } from '../processors/registry/table-kinds.js';
import { createKindRegistry, lifecycleLimitsOf } from '../processors/lifecycle/index.js';
import { BacklogMonitor } from '../topics/backlog.js';
import { topicNames } from '../topics/names.js';
import type { ApiDeps } from './context.js';
import { tableDeadLetters } from './dead-letters.js';
import type { ApiDepsOverrides, OwnedApiDeps } from './deps-factory.js';
import { defaultApiOptions } from './options.js';

/** A custom broker that has not announced itself for this long is taken for gone. */
const BROKER_ALIVE_MS = 5_000;

export async function createCustomApiDeps(config: StacklConfig, overrides: ApiDepsOverrides = {}): Promise<OwnedApiDeps> {
  const log = createLogger({ component: 'api', broker: 'custom' });
  const options = { ...defaultApiOptions, ...overrides.options };
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: options.dbConnectTimeoutMs });
  pool.on('error', (error) => log.warn('idle PostgreSQL connection failed', { error }));
  const tables = brokerTables(config.databaseSchema);
  const commands = new InboxClient({ pool, schema: config.databaseSchema, partitions: config.partitions });
  const progress = new CustomProjectionProgress(pool, config.databaseSchema, topicNames(config.topicPrefix).events, config.partitions);
  // Fixed kinds (tests), or the registry table workers write, read again before an unknown kind is refused.
  const kinds = overrides.kinds === undefined ? new TableKinds(pool, config.databaseSchema) : undefined;
  try {
    await kinds?.start();
  } catch (error) {
    await pool.end();
    throw error;
  }
  // Requests not yet decided, and orders not yet sent to the channel (what waits in RabbitMQ is not counted).
  const backlog = new BacklogMonitor(
    async () => {
      const { rows } = await pool.query<{ requests: string; orders: string }>(`select (select count(*) from ${tables.inbox}) as requests, (select count(*) from ${tables.outbox}) as orders`);
      return { requests: Number(rows[0]?.requests ?? 0), orders: Number(rows[0]?.orders ?? 0) };
    },
    { pollMs: options.backlogPollMs, log },
  );
  backlog.start();
  const deps: ApiDeps = {
    commands,
    pool,
    schema: config.databaseSchema,
    progress,
    deadLetters: tableDeadLetters(pool, tables.deadLetters),
    readiness: {
      kafka: async () => {
        const { rows } = await pool.query<{ alive: string }>(`select count(*) as alive from ${tables.members} where heartbeat_at > now() - $1 * interval '1 millisecond'`, [BROKER_ALIVE_MS]);
        if (Number(rows[0]?.alive ?? 0) === 0) throw new Error(`no custom broker has announced itself in the last ${BROKER_ALIVE_MS} ms`);
      },
      postgres: async () => {
        await pool.query('select 1');
      },
      lag: () => progress.lag(),
    },
    backlog,
    kinds: kinds?.kinds ?? overrides.kinds ?? createKindRegistry(),
    ...(kinds === undefined ? {} : { catalogue: kinds }),
    limits: lifecycleLimitsOf(config),
    partitions: config.partitions,
    ...(overrides.options === undefined ? {} : { options: overrides.options }),
    logger: log,
    broker: 'custom',
  };
  return {
    deps,
    async close() {
      await backlog.stop();
      await kinds?.stop();
      await Promise.allSettled([commands.close(), pool.end()]);
    },
  };
}

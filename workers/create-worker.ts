// The worker of users' own kinds, for their own programs:
//
//   const worker = await createWorker({ kinds: [implement(dnsRecord, { run, rollback })] });
//
// It reads the deployment's settings from the environment like every STACKL role
// (STACKL_KAFKA_BROKERS, STACKL_TOPIC_PREFIX, …), registers its kinds, and takes their
// orders in a pool of its own until `stop()`.
import { randomUUID } from 'node:crypto';
import { loadConfig, positiveIntFromEnv, type StacklConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { OnConsumerStopped } from '../topics/consumer-watch.js';
import type { ServedKind } from './implement.js';
import { startPoolWorker } from './start-worker.js';
import type { Worker } from './worker.js';

export interface CreateWorkerOptions {
  /** The kinds this worker serves, each from `implement(kind, handlers)`. */
  kinds: readonly ServedKind[];
  /**
   * The pool: workers of one pool share its orders, and each kind is served by one pool.
   * Default: the kinds' names, sorted and joined by `.` (so one kind's pool is its name).
   */
  pool?: string;
  /** Orders run at once (STACKL_WORKER_CONCURRENCY, else 8). */
  concurrency?: number;
  /** Where the settings come from; default process.env. */
  env?: Record<string, string | undefined>;
  /** Settings as loaded; default loadConfig(env). */
  config?: StacklConfig;
  workerId?: string;
  /** Releases what the handlers hold, once the worker stopped. */
  onStop?: () => Promise<void>;
  /** A Kafka consumer stopped for good; default: log it and exit the process so its supervisor restarts it. */
  onFatal?: OnConsumerStopped;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  if (options.kinds.length === 0) throw new ConfigError('createWorker needs at least one kind: kinds: [implement(myKind, { run, rollback })]');
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig(env);
  const pool = options.pool ?? [...options.kinds.map((served) => served.kind.name)].sort().join('.');
  return startPoolWorker({
    config,
    env,
    kinds: options.kinds,
    pool,
    concurrency: options.concurrency ?? positiveIntFromEnv(env, 'STACKL_WORKER_CONCURRENCY') ?? 8,
    workerId: options.workerId ?? `${pool.slice(0, 40)}-${randomUUID().slice(0, 8)}`,
    ...(options.onStop === undefined ? {} : { onStop: options.onStop }),
    onFatal:
      options.onFatal ??
      ((error) => {
        console.error('stackl worker: a Kafka consumer stopped for good; exiting so a supervisor can restart this process', error);
        process.exit(1);
      }),
  });
}

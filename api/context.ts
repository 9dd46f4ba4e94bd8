// What build(deps) needs from the outside, and the resolved context the route
// plugins share. Kept apart from app.ts so routes never import the app (no cycles).
import type pg from 'pg';
import type { BrokerName } from '../core/config.js';
import { createLogger, type Logger } from '../core/log.js';
import type { TaskCommands } from '../processors/broker/task-broker.js';
import type { KindView } from '../processors/registry/kind-book.js';
import type { KindRegistry, LifecycleLimits } from '../processors/lifecycle/index.js';
import { Admission } from './admission.js';
import type { DeadLetterReader } from './dead-letters.js';
import type { PartitionReader } from './partitions.js';
import type { ApiScope } from './api-keys.js';
import type { BacklogMonitor } from '../topics/backlog.js';
import { ApiMetrics } from './metrics.js';
import { defaultApiOptions, type ApiOptions } from './options.js';
import type { ProjectionProgress } from './projection-progress.js';
import type { ReadinessProbe } from './readiness.js';
import { pgTemplateReader, type TemplateReader } from './stack-templates.js';
import { TaskStore } from './task-store.js';

export interface ApiDeps {
  /** Where submit, cancel and retry-rollback go (the broker; KafkaBrokerClient for `kafka`). */
  commands: TaskCommands;
  /** Reads come from the projection in this pool's database, in `schema`. */
  pool: pg.Pool;
  schema: string;
  /** Positions in the log, for read-your-writes waits and lag. */
  progress: ProjectionProgress;
  readiness: ReadinessProbe;
  /** The work waiting in Kafka, read in the background; without it submissions are bounded only by what is pending. */
  backlog?: BacklogMonitor;
  kinds: KindRegistry;
  /** The registry `kinds` follows, when it is live: asked before an unknown kind is refused. */
  catalogue?: KindView;
  /** Payload size and reply topics the deployment allows (the decider applies the same). */
  limits: LifecycleLimits;
  /** Partitions of the co-partitioned topics, to check a position belongs to its task. */
  partitions: number;
  options?: Partial<ApiOptions>;
  logger?: Logger;
  /** Which broker decides tasks; /healthz says so (default `kafka`). */
  broker?: BrokerName;
  /** Reads the dead letters (the topic, or the custom broker's table) for GET /dead-letters; without it that route answers 501. */
  deadLetters?: DeadLetterReader;
  /** Reads the consumer groups' partitions for GET /partitions; without it that route answers 501. */
  partitionReader?: PartitionReader;
}

export interface ApiContext {
  commands: TaskCommands;
  store: TaskStore;
  progress: ProjectionProgress;
  readiness: ReadinessProbe;
  /** Every command passes here: it sheds load (503 OVERLOADED) instead of queueing. */
  admission: Admission;
  kinds: KindRegistry;
  catalogue?: KindView;
  limits: LifecycleLimits;
  /** Stack templates, to check a stack submitted from one. */
  templates: TemplateReader;
  /** Which broker decides tasks: the one thing a client can tell apart, by asking /healthz. */
  broker: BrokerName;
  partitions: number;
  options: ApiOptions;
  metrics: ApiMetrics;
  log: Logger;
  deadLetters?: DeadLetterReader;
  partitionReader?: PartitionReader;
}

export function createContext(deps: ApiDeps): ApiContext {
  const options = { ...defaultApiOptions, ...deps.options };
  const log = deps.logger ?? createLogger({ component: 'api' });
  return {
    commands: deps.commands,
    store: new TaskStore(deps.pool, deps.schema),
    progress: deps.progress,
    readiness: deps.readiness,
    admission: new Admission(options, deps.backlog, log),
    kinds: deps.kinds,
    ...(deps.catalogue === undefined ? {} : { catalogue: deps.catalogue }),
    limits: deps.limits,
    templates: pgTemplateReader(deps.pool, deps.schema),
    partitions: deps.partitions,
    broker: deps.broker ?? 'kafka',
    options,
    metrics: new ApiMetrics(),
    log,
    ...(deps.deadLetters === undefined ? {} : { deadLetters: deps.deadLetters }),
    ...(deps.partitionReader === undefined ? {} : { partitionReader: deps.partitionReader }),
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The API-key scope a route needs when keys are on; routes without one are open. */
    scope?: ApiScope;
  }
}

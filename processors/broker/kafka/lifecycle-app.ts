// Wires the lifecycle decider into the stream runtime: the `kafka` broker's processor.
// Inputs: task.requests and task.results; table: the tasks' state (changelog
// `<prefix>lifecycle-tasks-changelog`); outputs: task.events, task.dispatch, origins, DLQ.
import type { Admin } from 'kafkajs';
import { channelNameFrom, positiveIntFromEnv, type StacklConfig } from '../../../core/config.js';
import { ConfigError } from '../../../core/errors.js';
import { createLogger, type Logger } from '../../../core/log.js';
import { ensureTopics } from '../../../topics/admin.js';
import { BacklogMonitor, kafkaBacklogReader } from '../../../topics/backlog.js';
import { catalogueFor } from '../../../topics/catalogue.js';
import { createKafka } from '../../../topics/kafka.js';
import { changelogTopic, consumerGroup, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames, transactionalId } from '../../../topics/names.js';
import { createKindRegistry, defaultLifecycleDefaults, lifecycleLimitsOf, type KindRegistry, type LifecycleDefaults, type TaskState } from '../../lifecycle/index.js';
import { StreamApp } from '../../runtime/stream-app.js';
import { followKinds } from '../../registry/follow-kinds.js';
import { lifecycleProcessor } from './lifecycle-processor.js';
import { originTopicsFrom } from './origin-topics.js';
import { SubmitAdmission, type SubmitSheddingOptions } from './submit-admission.js';
import { useConfiguredWireFormat } from '../../../topics/schema-registration.js';

export interface LifecycleAppOptions {
  defaults?: Partial<LifecycleDefaults>;
  /** Fixed kinds (tests); absent: the built-in kinds and those registered on task.kinds, followed live. */
  kinds?: KindRegistry;
  tickIntervalMs?: number;
  maxRecordsPerTransaction?: number;
  clientId?: string;
  /** See StreamAppOptions.sessionTimeoutMs; `stackl broker` reads STACKL_BROKER_SESSION_TIMEOUT_MS. */
  sessionTimeoutMs?: number;
  /** What to do when the processor stops for good; roles exit so a supervisor restarts them. */
  onFatal?: (error: unknown) => void;
  /**
   * How long an expunged task's id stays spent, so a retried submission is still recognised
   * (STACKL_IDEMPOTENCY_WINDOW_MS; default 7 days; 0 forgets at expunge). Each id costs about
   * 40 bytes of memory and one small changelog record for the window.
   */
  idempotencyWindowMs?: number;
  /**
   * Refuse new tasks under overload (submit-admission.ts); `stackl broker` turns it on
   * with submitSheddingFromEnv. Absent: every valid submission is taken (tests, benchmarks).
   */
  shedding?: SubmitSheddingOptions;
}

export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 7 * 24 * 3_600_000;

export interface RunningLifecycleApp {
  app: StreamApp<TaskState>;
  stop(): Promise<void>;
}

/** Creates or verifies the topics, then starts the processor; resolves once its partitions are restored. */
export async function startLifecycleApp(config: StacklConfig, options: LifecycleAppOptions = {}): Promise<RunningLifecycleApp> {
  await useConfiguredWireFormat(config);
  const kafka = createKafka(config, options.clientId ?? 'stackl-broker');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, catalogueFor(config));
  const topics = topicNames(config.topicPrefix);
  const log = createLogger({ component: 'lifecycle' });
  const backlog = backlogFor(options.shedding, admin, config, log);
  const catalogue = options.kinds === undefined ? await followKinds(config, kafka, admin) : undefined;
  const admission = options.shedding === undefined ? undefined : new SubmitAdmission(options.shedding, backlog, log);
  const ownTopics = new Map(Object.entries(topics).map(([name, topic]) => [topic, name]));
  const app = new StreamApp<TaskState>({
    kafka,
    // Reply topics are named by callers: one label value for all of them keeps the series bounded.
    metrics: { app: LIFECYCLE_APP, topicLabel: (topic) => ownTopics.get(topic) ?? (topic.endsWith('changelog') ? 'changelog' : 'reply') },
    groupId: consumerGroup(config.topicPrefix, LIFECYCLE_APP),
    inputTopics: [topics.requests, topics.results],
    changelogTopic: changelogTopic(config.topicPrefix, LIFECYCLE_APP, LIFECYCLE_TABLE),
    dlqTopic: topics.dlq,
    partitions: config.partitions,
    transactionalIdOf: (p) => transactionalId(config.topicPrefix, LIFECYCLE_APP, LIFECYCLE_TABLE, p),
    processor: lifecycleProcessor({
      topics,
      originTopics: originTopicsFrom(admin),
      ...(admission === undefined ? {} : { admission }),
      ...(catalogue === undefined ? {} : { learnKind: (kind: string, writtenAt: number) => catalogue.knows(kind, writtenAt) }),
      decider: { kinds: catalogue?.kinds ?? options.kinds ?? createKindRegistry(), defaults: { ...defaultLifecycleDefaults, ...options.defaults }, limits: lifecycleLimitsOf(config) },
    }),
    serde: { encode: (state) => Buffer.from(JSON.stringify(state)), decode: (bytes) => JSON.parse(bytes.toString('utf8')) as TaskState },
    logger: log,
    retiredWindowMs: options.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS,
    ...(options.onFatal === undefined ? {} : { onFatal: options.onFatal }),
    ...(options.tickIntervalMs === undefined ? {} : { tickIntervalMs: options.tickIntervalMs }),
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
    ...(options.maxRecordsPerTransaction === undefined ? {} : { maxRecordsPerTransaction: options.maxRecordsPerTransaction }),
  });
  backlog?.start();
  try {
    await app.start();
    await app.ready();
  } catch (error) {
    await backlog?.stop();
    await catalogue?.stop();
    throw error;
  }
  return {
    app,
    async stop() {
      await app.stop();
      await backlog?.stop();
      await catalogue?.stop();
      await admin.disconnect();
    },
  };
}

/** The reading of orders waiting for a worker, when shedding by their count or wait is on. */
function backlogFor(shedding: SubmitSheddingOptions | undefined, admin: Admin, config: StacklConfig, log: Logger): BacklogMonitor | undefined {
  if (shedding === undefined || (shedding.maxQueuedOrders === 0 && shedding.maxOrderWaitMs === 0)) return undefined;
  return new BacklogMonitor(kafkaBacklogReader(admin, topicNames(config.topicPrefix), config.topicPrefix, channelNameFrom(process.env)), { pollMs: shedding.backlogPollMs, log });
}

/** STACKL_IDEMPOTENCY_WINDOW_MS, when set (0 allowed: no window). */
export function idempotencyWindowFromEnv(env: Record<string, string | undefined> = process.env): number | undefined {
  const raw = env.STACKL_IDEMPOTENCY_WINDOW_MS;
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new ConfigError(`STACKL_IDEMPOTENCY_WINDOW_MS must be a whole number of milliseconds (0 turns the window off), got "${raw}"`);
  return value;
}

/** Lifecycle defaults a deployment may override through the environment. */
export function lifecycleDefaultsFromEnv(env: Record<string, string | undefined> = process.env): Partial<LifecycleDefaults> {
  const defaults: Partial<LifecycleDefaults> = {};
  const timeoutMs = positiveIntFromEnv(env, 'STACKL_TASK_TIMEOUT_MS');
  const expungeGraceMs = positiveIntFromEnv(env, 'STACKL_EXPUNGE_GRACE_MS');
  if (timeoutMs !== undefined) defaults.timeoutMs = timeoutMs;
  if (expungeGraceMs !== undefined) defaults.expungeGraceMs = expungeGraceMs;
  return defaults;
}

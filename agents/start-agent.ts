// Builds an agent for a deployment: its name and target selector (flags or
// STACKL_AGENT_NAME / STACKL_AGENT_TARGETS), the channel named by STACKL_CHANNEL, and
// its environment store (schema STACKL_ENV_SCHEMA, migrated by the agent itself, since
// only agents own it). Used by `stackl agent` and `stackl all`.
import pg from 'pg';
import { channelNameFrom, positiveIntFromEnv, type StacklConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { ensureMigrated } from '../deploy/migrations/runner.js';
import type { AgentJobServer } from '../channels/agent-channel.js';
import { KafkaAgentJobServer } from '../channels/kafka-agent-channel.js';
import { RabbitAgentJobServer } from '../channels/rabbitmq-agent-channel.js';
import { RedisAgentJobServer } from '../channels/redis-agent-channel.js';
import { createKafka } from '../topics/kafka.js';
import { consumerGroup, topicNames } from '../topics/names.js';
import { Agent } from './agent.js';
import { environmentMigrations } from './environment-schema.js';
import { EnvironmentStore } from './environment-store.js';
import { targetSelector } from './target-selector.js';
import type { OnConsumerStopped } from '../topics/consumer-watch.js';

type Env = Record<string, string | undefined>;

export interface AgentSettings {
  name: string;
  targets: string;
}

/** `onFatal`: the agent's Kafka consumer stopped for good; roles exit so their supervisor restarts them. */
export async function startAgent(config: StacklConfig, settings: AgentSettings, env: Env = process.env, onFatal?: OnConsumerStopped): Promise<Agent> {
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(settings.name)) throw new ConfigError(`an agent name is lower-case letters, digits, . _ -; got "${settings.name}"`);
  const accepts = targetSelector(settings.targets);
  await ensureMigrated(config.databaseUrl, config.environmentSchema, config.migrate, environmentMigrations);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 8 });
  pool.on('error', (error) => createLogger({ component: 'agent' }).warn('idle database connection failed', { error }));
  const agent = new Agent({
    name: settings.name,
    accepts,
    server: agentServer(config, settings.name, env, onFatal),
    environment: new EnvironmentStore(pool, config.environmentSchema),
    concurrency: positiveIntFromEnv(env, 'STACKL_AGENT_CONCURRENCY') ?? 8,
    ...faultInjection(env),
    onStop: () => pool.end(),
  });
  try {
    await agent.start();
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  return agent;
}

/** The agent's name and targets: from its flags (`--name`, `--targets`), else from the environment. */
export function agentSettingsFrom(flags: { name?: string | undefined; targets?: string | undefined }, env: Env = process.env): AgentSettings {
  const name = flags.name ?? env.STACKL_AGENT_NAME;
  const targets = flags.targets ?? env.STACKL_AGENT_TARGETS;
  if (name === undefined || targets === undefined) throw new ConfigError('an agent needs --name <name> and --targets <names or globs> (or STACKL_AGENT_NAME and STACKL_AGENT_TARGETS)');
  return { name, targets };
}

function agentServer(config: StacklConfig, name: string, env: Env, onFatal: OnConsumerStopped | undefined): AgentJobServer {
  const channel = channelNameFrom(env);
  if (channel === 'redis') return new RedisAgentJobServer(config.redisUrl, config.topicPrefix, name);
  if (channel === 'rabbitmq') return new RabbitAgentJobServer(config.rabbitmqUrl, config.topicPrefix, name);
  const topics = topicNames(config.topicPrefix);
  return new KafkaAgentJobServer({
    kafka: createKafka(config, `stackl-agent-${name}`),
    jobsTopic: topics.agentJobs,
    repliesTopic: topics.agentReplies,
    dlqTopic: topics.dlq,
    groupId: consumerGroup(config.topicPrefix, `agent-${name}`),
    partitions: config.partitions,
    ...(onFatal === undefined ? {} : { onFatal }),
  });
}

/**
 * Failing jobs on purpose and slowing every job are for demos and fault tests: honoured
 * only with STACKL_FAULT_INJECTION=1 (and then said loudly at start), so a stray
 * setting in production cannot fail real jobs.
 */
export function faultInjection(env: Env): { failTargets: ReadonlySet<string>; delayMs: number } {
  const failTargets = new Set((env.STACKL_AGENT_FAIL_TARGETS ?? '').split(',').map((t) => t.trim()).filter((t) => t !== ''));
  const delayMs = positiveIntFromEnv(env, 'STACKL_AGENT_DELAY_MS') ?? 0;
  const asked = failTargets.size > 0 || delayMs > 0;
  const log = createLogger({ component: 'agent' });
  if (env.STACKL_FAULT_INJECTION !== '1') {
    if (asked) log.warn('STACKL_AGENT_FAIL_TARGETS and STACKL_AGENT_DELAY_MS are ignored without STACKL_FAULT_INJECTION=1');
    return { failTargets: new Set(), delayMs: 0 };
  }
  log.warn('fault injection is on: this agent fails jobs and waits on purpose', { failTargets: [...failTargets], delayMs });
  return { failTargets, delayMs };
}

// Builds an agent for a deployment: its name and target selector (flags or
// STACKL_AGENT_NAME / STACKL_AGENT_TARGETS), the channel named by STACKL_CHANNEL, and
// its environment store (schema STACKL_ENV_SCHEMA, migrated by the agent itself, since
// only agents own it). Used by `stackl agent` and `stackl all`.
import pg from 'pg';
import { positiveIntFromEnv, type StacklConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { migrate } from '../deploy/migrations/runner.js';
import type { AgentJobServer } from '../topics/channel/agent-channel.js';
import { KafkaAgentJobServer } from '../topics/channel/kafka-agent-channel.js';
import { RedisAgentJobServer } from '../topics/channel/redis-agent-channel.js';
import { createKafka } from '../topics/kafka.js';
import { consumerGroup, topicNames } from '../topics/names.js';
import { Agent } from './agent.js';
import { environmentMigrations } from './environment-schema.js';
import { EnvironmentStore } from './environment-store.js';
import { targetSelector } from './target-selector.js';

type Env = Record<string, string | undefined>;

export interface AgentSettings {
  name: string;
  targets: string;
}

export async function startAgent(config: StacklConfig, settings: AgentSettings, env: Env = process.env): Promise<Agent> {
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(settings.name)) throw new ConfigError(`an agent name is lower-case letters, digits, . _ -; got "${settings.name}"`);
  const accepts = targetSelector(settings.targets);
  await migrate(config.databaseUrl, config.environmentSchema, environmentMigrations);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 8 });
  pool.on('error', (error) => createLogger({ component: 'agent' }).warn('idle database connection failed', { error }));
  const agent = new Agent({
    name: settings.name,
    accepts,
    server: agentServer(config, settings.name, env),
    environment: new EnvironmentStore(pool, config.environmentSchema),
    concurrency: positiveIntFromEnv(env, 'STACKL_AGENT_CONCURRENCY') ?? 8,
    failTargets: new Set((env.STACKL_AGENT_FAIL_TARGETS ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '')),
    delayMs: positiveIntFromEnv(env, 'STACKL_AGENT_DELAY_MS') ?? 0,
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

/** Reads `--name x --targets y` (or `--name=x`), falling back to the environment. */
export function agentSettingsFrom(args: readonly string[], env: Env = process.env): AgentSettings {
  const flag = (name: string): string | undefined => {
    const index = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (index < 0) return undefined;
    const arg = args[index] as string;
    return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[index + 1];
  };
  const name = flag('name') ?? env.STACKL_AGENT_NAME;
  const targets = flag('targets') ?? env.STACKL_AGENT_TARGETS;
  if (name === undefined || targets === undefined) throw new ConfigError('an agent needs --name <name> and --targets <names or globs> (or STACKL_AGENT_NAME and STACKL_AGENT_TARGETS)');
  return { name, targets };
}

function agentServer(config: StacklConfig, name: string, env: Env): AgentJobServer {
  const channel = env.STACKL_CHANNEL ?? 'kafka';
  if (channel === 'redis') return new RedisAgentJobServer(config.redisUrl, config.topicPrefix, name);
  if (channel !== 'kafka') throw new ConfigError(`STACKL_CHANNEL must be "kafka" or "redis", got "${channel}"`);
  const topics = topicNames(config.topicPrefix);
  return new KafkaAgentJobServer({
    kafka: createKafka(config, `stackl-agent-${name}`),
    jobsTopic: topics.agentJobs,
    repliesTopic: topics.agentReplies,
    dlqTopic: topics.dlq,
    groupId: consumerGroup(config.topicPrefix, `agent-${name}`),
    partitions: config.partitions,
  });
}

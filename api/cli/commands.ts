// The command table of the `stackl` CLI. Each command is small and delegates to the
// module that owns the work: deploy/local for the stack, topics/, migrations, and the
// roles (broker, worker, projector, api), which `all` runs together in one process.
import { channelNameFrom, channelNeedsRelay, loadConfig, positiveIntFromEnv, type StacklConfig } from '../../core/config.js';
import type { Admin } from 'kafkajs';
import { migrate } from '../../deploy/migrations/runner.js';
import { stackDown, stackUp } from '../../deploy/local/stack.js';
import { idempotencyWindowFromEnv, lifecycleDefaultsFromEnv, startLifecycleApp } from '../../processors/broker/kafka/lifecycle-app.js';
import { submitSheddingFromEnv } from '../../processors/broker/kafka/submit-admission.js';
import { replayCommand, startProjector } from '../../processors/projection/index.js';
import { ensureTopics, verifyTopics } from '../../topics/admin.js';
import { catalogueFor } from '../../topics/catalogue.js';
import { createKafka } from '../../topics/kafka.js';
import { startRelay } from '../../channels/start-relay.js';
import { notifierSettingsFrom } from '../../core/webhook-config.js';
import { startNotifier } from '../../processors/notifier/index.js';
import { startWorker } from '../../workers/start-worker.js';
import { agentSettingsFrom, startAgent } from '../../agents/start-agent.js';
import { apiOptionsFromEnv } from '../options.js';
import { startApi } from '../server.js';
import { startCustomBroker } from '../../processors/broker/custom/start-custom-broker.js';
import { apiCommands } from './api-commands.js';
import { intFlag, parseFlags } from './cli-io.js';
import type { Command } from './command.js';
import { ROLE_STOP_DEADLINE_MS, runUntilSignal, type Stoppable, type StopStep } from './run-until-signal.js';
import { startProcessMetrics } from '../../core/metrics.js';
import { metricsPortFrom, serveMetrics } from '../../core/metrics-server.js';

export type { Command } from './command.js';

/** A role whose processor stopped for good exits non-zero, so its supervisor restarts it. */
const exitOnFatal = (error: unknown): void => {
  process.stderr.write(`stackl: fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
};

/** In-flight requests finish; a read waiting for the projection gives up within STACKL_API_MAX_WAIT_MS (10 s by default). */
const API_STOP_DEADLINE_MS = 15_000;
/** The grace for the attempts in flight, then time to report, commit and leave the group. */
const workerStopDeadline = (config: StacklConfig): number => config.shutdownGraceMs + ROLE_STOP_DEADLINE_MS;

const progress = (message: string): void => {
  process.stderr.write(`stackl: ${message}\n`);
};

/**
 * A role run alone: Node's metrics labelled with the role, and, with STACKL_METRICS_PORT,
 * /metrics and /healthz served for it. Stopped last, so the final figures can be scraped.
 */
async function roleMetrics(role: string): Promise<Stoppable[]> {
  startProcessMetrics(role);
  const port = metricsPortFrom(process.env);
  if (port === undefined) return [];
  const server = await serveMetrics(role, port);
  progress(`${role}: metrics on ${server.address}/metrics`);
  return [{ stop: () => server.stop() }];
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function withAdmin<T>(config: StacklConfig, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createKafka(config, 'stackl-admin').admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

const createTopics = (config: StacklConfig) => withAdmin(config, (admin) => ensureTopics(admin, catalogueFor(config)));

/** The broker STACKL_BROKER names: the Kafka stream processor, or the custom one on PostgreSQL. */
const broker = (config: StacklConfig): Promise<{ stop(): Promise<void>; describe(): string }> => {
  if (config.broker === 'custom') {
    const idempotencyWindowMs = idempotencyWindowFromEnv();
    return startCustomBroker(config, { defaults: lifecycleDefaultsFromEnv(), ...(idempotencyWindowMs === undefined ? {} : { idempotencyWindowMs }) }).then((running) => ({
      stop: () => running.stop(),
      describe: () => `custom broker ${running.broker.memberId} ready; owns partitions ${running.broker.stats().ownedPartitions.join(',')}`,
    }));
  }
  return kafkaBroker(config).then((running) => ({ stop: () => running.stop(), describe: () => `broker ready; owns partitions ${running.app.stats().ownedPartitions.join(',')}` }));
};

const kafkaBroker = (config: StacklConfig) => {
  const sessionTimeoutMs = positiveIntFromEnv(process.env, 'STACKL_BROKER_SESSION_TIMEOUT_MS');
  const idempotencyWindowMs = idempotencyWindowFromEnv();
  return startLifecycleApp(config, {
    defaults: lifecycleDefaultsFromEnv(),
    shedding: submitSheddingFromEnv(),
    onFatal: exitOnFatal,
    ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }),
    ...(idempotencyWindowMs === undefined ? {} : { idempotencyWindowMs }),
  });
};

const stackCommands: Record<string, Command> = {
  all: {
    summary:
      'run the whole system on this machine: local stack, topics, migrations, then broker, worker, agent, notifier, projector and API in this process; `--with-registry` also runs a schema registry and writes Confluent framing',
    async run(args) {
      const { values } = parseFlags(args, { 'with-registry': { type: 'boolean' } });
      let config = loadConfig();
      // Every role runs in this process: their metrics are served on the API's /metrics.
      startProcessMetrics('all');
      // The API's settings (host, keys, limits) are read again when it starts, last of
      // all; a mistake there is refused now, before Kafka and the other roles start.
      apiOptionsFromEnv(process.env, config.maxPayloadBytes);
      notifierSettingsFrom(process.env);
      const withRegistry = values['with-registry'] === true;
      const stack = await stackUp(config, progress, undefined, { withRegistry });
      // The registry `--with-registry` asked for is the one every role of this process registers
      // with; without the flag, one left running by an earlier `up` is not used unasked.
      if (withRegistry && stack.schemaRegistry !== undefined && config.schemaRegistryUrl === undefined) config = { ...config, schemaRegistryUrl: stack.schemaRegistry.url };
      const custom = config.broker === 'custom';
      const kafkaFree = custom && channelNameFrom(process.env) !== 'kafka';
      progress(kafkaFree ? 'stack is up (the custom broker needs no Kafka)' : 'stack is up; creating or verifying topics');
      const topics = kafkaFree ? undefined : await createTopics(config);
      progress(`applying migrations to schema ${config.databaseSchema}`);
      const migrations = await migrate(config.databaseUrl, config.databaseSchema);
      const channel = channelNameFrom(process.env);
      // The custom broker sends orders to its channel itself: no relay.
      const relayed = !custom && channelNeedsRelay(channel);
      progress(`starting the ${config.broker} broker, ${relayed ? 'the relay, ' : ''}a worker and an agent (${channel} channel), the notifier, the projector and the API`);
      // One agent for every target, unless STACKL_AGENT_NAME / STACKL_AGENT_TARGETS say otherwise.
      const agentSettings = { name: process.env.STACKL_AGENT_NAME ?? 'local', targets: process.env.STACKL_AGENT_TARGETS ?? '*' };
      const lifecycle = await broker(config);
      const relay = relayed ? await startRelay(config, exitOnFatal) : undefined;
      const worker = await startWorker(config, process.env, exitOnFatal);
      const agent = await startAgent(config, agentSettings, process.env, exitOnFatal);
      const notifier = await startNotifier(config, process.env, exitOnFatal);
      const projector = await startProjector(config, { onFatal: exitOnFatal });
      const api = await startApi(config);
      // Stop what takes work in first: the API (no new submissions), then the worker,
      // which finishes its attempts while the agents, the relay, the broker and the
      // projector it needs still run to carry them through; each then stops in turn.
      const stopOrder: StopStep[] = [
        { name: 'api', roles: [api], deadlineMs: API_STOP_DEADLINE_MS },
        { name: 'worker', roles: [worker], deadlineMs: workerStopDeadline(config) },
        { name: 'agent', roles: [agent], deadlineMs: ROLE_STOP_DEADLINE_MS },
        ...(relay === undefined ? [] : [{ name: 'relay', roles: [relay], deadlineMs: ROLE_STOP_DEADLINE_MS }]),
        { name: 'broker', roles: [lifecycle], deadlineMs: ROLE_STOP_DEADLINE_MS },
        { name: 'notifier', roles: [notifier], deadlineMs: ROLE_STOP_DEADLINE_MS },
        { name: 'projector', roles: [projector], deadlineMs: ROLE_STOP_DEADLINE_MS },
      ];
      print({ ready: true, stack, topics, migrations, roles: [`${config.broker} broker`, ...(relayed ? ['relay'] : []), 'worker', `agent ${agentSettings.name} (targets ${agentSettings.targets})`, 'notifier', 'projector', 'api'], api: api.address, docs: `${api.address}/docs` });
      progress(`ready: REST API on ${api.address} (OpenAPI at ${api.address}/docs); ${custom ? `custom broker on PostgreSQL ${stack.postgres.address}, RabbitMQ ${stack.rabbitmq.address}` : `Kafka ${stack.kafka.address}, PostgreSQL ${stack.postgres.address}`}${config.schemaRegistryUrl === undefined ? '' : `, schema registry ${config.schemaRegistryUrl}`}; logs in ${stack.logs}`);
      progress('Ctrl-C stops the roles; the local stack keeps running (`npm run stack:down` stops it)');
      return runUntilSignal('all', stopOrder);
    },
  },
  broker: {
    summary: 'run the broker STACKL_BROKER names: kafka (the lifecycle stream processor) or custom (the same decider on PostgreSQL); any number of instances share the partitions',
    async run(args) {
      parseFlags(args, {});
      const running = await broker(loadConfig());
      progress(running.describe());
      return runUntilSignal('broker', [{ name: 'broker', roles: [running], deadlineMs: ROLE_STOP_DEADLINE_MS }, ...(await roleMetrics('broker')).map((r) => ({ name: 'metrics', roles: [r], deadlineMs: 5_000 }))]);
    },
  },
  worker: {
    summary: 'run a worker on the channel named by STACKL_CHANNEL (kafka, redis or rabbitmq); run any number',
    async run(args) {
      parseFlags(args, {});
      const config = loadConfig();
      const worker = await startWorker(config, process.env, exitOnFatal);
      progress(`worker ready (${worker.workerId})`);
      return runUntilSignal('worker', [{ name: 'worker', roles: [worker], deadlineMs: workerStopDeadline(config) }, ...(await roleMetrics('worker')).map((r) => ({ name: 'metrics', roles: [r], deadlineMs: 5_000 }))]);
    },
  },
  agent: {
    summary: 'run an agent: `stackl agent --name <name> --targets <names or globs>`; applies agent jobs of those targets to the environment store',
    async run(args) {
      const { values } = parseFlags(args, { name: { type: 'string' }, targets: { type: 'string' } });
      const settings = agentSettingsFrom(values);
      const agent = await startAgent(loadConfig(), settings, process.env, exitOnFatal);
      progress(`agent ${settings.name} ready, serving targets ${settings.targets}`);
      return runUntilSignal('agent', [{ name: 'agent', roles: [agent], deadlineMs: ROLE_STOP_DEADLINE_MS }, ...(await roleMetrics('agent')).map((r) => ({ name: 'metrics', roles: [r], deadlineMs: 5_000 }))]);
    },
  },
  relay: {
    summary: 'run the relay of the redis or rabbitmq channel: work orders Kafka → the channel, results the channel → Kafka (redis: requeue of dead workers)',
    async run(args) {
      parseFlags(args, {});
      const relay = await startRelay(loadConfig(), exitOnFatal);
      progress('relay ready');
      return runUntilSignal('relay', [{ name: 'relay', roles: [relay], deadlineMs: ROLE_STOP_DEADLINE_MS }, ...(await roleMetrics('relay')).map((r) => ({ name: 'metrics', roles: [r], deadlineMs: 5_000 }))]);
    },
  },
  notifier: {
    summary: 'run the notifier: POSTs the outcomes of tasks with webhook origins, signed, at least once (any number of instances share the partitions)',
    async run(args) {
      parseFlags(args, {});
      const notifier = await startNotifier(loadConfig(), process.env, exitOnFatal);
      progress('notifier ready');
      return runUntilSignal('notifier', [{ name: 'notifier', roles: [notifier], deadlineMs: ROLE_STOP_DEADLINE_MS }, ...(await roleMetrics('notifier')).map((r) => ({ name: 'metrics', roles: [r], deadlineMs: 5_000 }))]);
    },
  },
  projector: {
    summary: 'run the projector: task.events into PostgreSQL, exactly once (offsets stored with the rows)',
    async run(args) {
      parseFlags(args, {});
      const projector = await startProjector(loadConfig(), { onFatal: exitOnFatal });
      progress('projector ready');
      return runUntilSignal('projector', [{ name: 'projector', roles: [projector], deadlineMs: ROLE_STOP_DEADLINE_MS }, ...(await roleMetrics('projector')).map((r) => ({ name: 'metrics', roles: [r], deadlineMs: 5_000 }))]);
    },
  },
  replay: {
    summary: 'rebuild the projection from the start of task.events into a fresh schema, then compare it with the live one',
    run: (args) => {
      parseFlags(args, {});
      return replayCommand(loadConfig());
    },
  },
  up: {
    summary:
      'provision and start the local stack (Kafka, PostgreSQL, Redis); idempotent; `--nodes 3` for a KRaft cluster, `--secure` for SASL_SSL listeners, ' +
      '`--with-registry` for an Apicurio schema registry (Java 21+) at STACKL_SCHEMA_REGISTRY_URL, default http://127.0.0.1:8081/apis/ccompat/v7',
    async run(args) {
      const { values } = parseFlags(args, { nodes: { type: 'string' }, secure: { type: 'boolean' }, 'with-registry': { type: 'boolean' } });
      const nodes = intFlag('nodes', values.nodes, 1) ?? 1;
      const stack = await stackUp(loadConfig(), progress, { nodes, secure: values.secure === true }, { withRegistry: values['with-registry'] === true });
      print(stack);
      const registryEnv = stack.schemaRegistry?.clientEnv;
      if (registryEnv !== undefined) progress(`for the roles to use the schema registry: export STACKL_SCHEMA_REGISTRY_URL=${registryEnv.STACKL_SCHEMA_REGISTRY_URL}`);
      return 0;
    },
  },
  down: {
    summary: 'stop what `up` started, and nothing else',
    async run(args) {
      parseFlags(args, {});
      print({ stopped: await stackDown(loadConfig(), progress) });
      return 0;
    },
  },
  topics: {
    summary: 'create the missing topics of the catalogue and verify the existing ones; `--check` only reports what differs (exit 1 if anything does)',
    async run(args) {
      const { values } = parseFlags(args, { check: { type: 'boolean' } });
      if (values.check !== true) {
        print(await createTopics(loadConfig()));
        return 0;
      }
      const config = loadConfig();
      const report = await withAdmin(config, (admin) => verifyTopics(admin, catalogueFor(config)));
      print(report);
      return report.problems.length === 0 ? 0 : 1;
    },
  },
  migrate: {
    summary: 'apply pending database migrations (safe to run from several processes at once)',
    async run(args) {
      parseFlags(args, {});
      const config = loadConfig();
      print(await migrate(config.databaseUrl, config.databaseSchema));
      return 0;
    },
  },
};

/** Every command; the API layer's `status` also answers without a task id, like the stack's. */
export const commands: Record<string, Command> = { ...stackCommands, ...apiCommands };

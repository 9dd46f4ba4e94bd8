// `up`, `down` and `status` of the local stack: Kafka (provisioned from Maven
// Central), PostgreSQL, Redis and, when installed, RabbitMQ; with `withRegistry`, an
// Apicurio schema registry too. `up` is idempotent and records what it started;
// `down` stops only that, so a developer's own services are never touched.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { channelNameFrom, type StacklConfig } from '../../core/config.js';
import { ConfigError, ServiceUnavailableError } from '../../core/errors.js';
import { maskUrl } from '../../core/secret.js';
import { isSecured } from '../../topics/kafka-options.js';
import { findRegistryJava } from './apicurio-install.js';
import { CCOMPAT_PATH, ccompatUrl, registryAnswers, registryState, runningRegistryPid, startApicurio, stopApicurio } from './apicurio.js';
import { clusterDown, clusterHome, clusterUp, type ClusterChoice, type ClusterReport } from './cluster-stack.js';
import { clusterNodePids } from './kafka-cluster.js';
import { brokerAnswers, runningBrokerPid, startBroker, waitForBroker } from './kafka-broker.js';
import { ensureKafkaInstalled } from './kafka-install.js';
import { stackPaths, type StackPaths } from './paths.js';
import { ensurePostgres, postgresAnswers, stopLocalPostgres } from './postgres.js';
import { clearPid, stopProcess } from './processes.js';
import { ensureRabbit, rabbitAnswers, runningRabbitPid } from './rabbitmq.js';
import { ensureRedis, redisAnswers, runningRedisPid } from './redis.js';
import { isLoopback } from './wait.js';

export interface ServiceReport {
  address: string;
  answering: boolean;
  /** True when this stack's `up` started it (and so `down` will stop it). */
  ours: boolean;
  pid?: number;
  /** Why it answered but refused us (Kafka: credentials or certificate). */
  refused?: string;
}

export interface StackReport {
  kafka: ServiceReport & { version?: string; cluster?: ClusterReport; nodePids?: Record<number, number> };
  postgres: ServiceReport;
  redis: ServiceReport;
  /** Needed by the rabbitmq channel only; started when installed and not answering. */
  rabbitmq: ServiceReport;
  /** With `withRegistry`, or when this stack's registry runs: the Confluent-compatible API at `url`. */
  schemaRegistry?: SchemaRegistryReport;
  logs: string;
  elapsedMs: number;
}

export type SchemaRegistryReport = ServiceReport & {
  url: string;
  /** Set when STACKL_SCHEMA_REGISTRY_URL is not: what the roles need to use this registry. */
  clientEnv?: { STACKL_SCHEMA_REGISTRY_URL: string };
};

export interface StackUpOptions {
  /** Also a schema registry: the one answering at STACKL_SCHEMA_REGISTRY_URL, else Apicurio started here. */
  withRegistry?: boolean;
}

const POSTGRES_MARKER = 'postgres.started';

/** `cluster`: Kafka as several KRaft nodes and/or behind SASL_SSL (`stackl up --nodes 3 --secure`) instead of the single node. */
export async function stackUp(config: StacklConfig, onProgress: (m: string) => void = () => {}, cluster?: ClusterChoice, options: StackUpOptions = {}): Promise<StackReport> {
  const began = Date.now();
  const paths = stackPaths(config.stateDir);
  // Refused now, before anything starts: a registry that cannot be had, or no Java for ours.
  const registry = options.withRegistry === true ? await planRegistry(config, paths.pids) : undefined;
  const report = await servicesUp(config, paths, onProgress, cluster);
  if (registry === undefined) return { ...report, elapsedMs: Date.now() - began };
  return { ...report, schemaRegistry: await registryUp(config, registry, onProgress), elapsedMs: Date.now() - began };
}

async function servicesUp(config: StacklConfig, paths: StackPaths, onProgress: (m: string) => void, cluster: ClusterChoice | undefined): Promise<StackReport> {
  const began = Date.now();

  const startedPostgres = await ensurePostgres(config.databaseUrl, onProgress);
  if (startedPostgres) writeFileSync(join(paths.pids, POSTGRES_MARKER), `${new Date().toISOString()}\n`);
  await ensureRedis(config.redisUrl, paths, onProgress);
  await ensureRabbit(config.rabbitmqUrl, paths, channelNameFrom(process.env) === 'rabbitmq', onProgress);
  // The custom broker keeps its log in PostgreSQL: no Kafka, no JVM (unless Kafka is its channel).
  if (config.broker === 'custom' && channelNameFrom(process.env) !== 'kafka') return { ...(await stackStatus(config)), elapsedMs: Date.now() - began };

  if (cluster !== undefined && (cluster.nodes > 1 || cluster.secure)) {
    const report = await clusterUp(config, paths, cluster, onProgress);
    const status = await stackStatus(config);
    return { ...status, kafka: { address: report.address, answering: true, ours: true, version: config.kafkaVersion, cluster: report }, elapsedMs: Date.now() - began };
  }

  let kafkaPid = runningBrokerPid(paths.pids);
  // A broker that refuses our credentials or certificate throws here: it runs, so starting another is wrong.
  if (kafkaPid === undefined && !(await brokerAnswers(config.kafkaBrokers, 1500, config.kafkaSecurity))) {
    const [host, port] = splitHostPort(config.kafkaBrokers[0] ?? '');
    if (!isLoopback(host)) {
      throw new ServiceUnavailableError('kafka', `Kafka does not answer at ${config.kafkaBrokers.join(',')} and that is not this machine, so it cannot be started here.`);
    }
    if (isSecured(config.kafkaSecurity)) {
      throw new ServiceUnavailableError(
        'kafka',
        `Kafka does not answer at ${config.kafkaBrokers.join(',')} with the KAFKA_SSL/KAFKA_SASL_* settings, and the local single node is plaintext: start the secured cluster with \`stackl up --secure\` (it prints the settings to use), or unset those settings.`,
      );
    }
    const install = await ensureKafkaInstalled(config.cacheDir, config.kafkaVersion, join(paths.logs, 'kafka-download.log'), onProgress);
    onProgress(`starting Kafka ${config.kafkaVersion} (KRaft, one node) on ${host}:${port}`);
    kafkaPid = startBroker({
      install,
      pidsDir: paths.pids,
      heap: config.kafkaHeap,
      layout: {
        host: host === 'localhost' ? '127.0.0.1' : host,
        port,
        controllerPort: config.kafkaControllerPort ?? port + 1,
        dataDir: paths.kafkaData,
        configDir: paths.kafkaConfig,
        logsDir: paths.logs,
      },
    }).pid;
  }
  await waitForBroker(config.kafkaBrokers, kafkaPid, paths.logs, 120_000, { security: config.kafkaSecurity });
  const report = await stackStatus(config);
  return { ...report, elapsedMs: Date.now() - began };
}

export async function stackDown(config: StacklConfig, onProgress: (m: string) => void = () => {}): Promise<string[]> {
  const paths = stackPaths(config.stateDir);
  const stopped: string[] = await clusterDown(paths, onProgress);
  const registryPid = runningRegistryPid(paths.pids);
  if (registryPid !== undefined) {
    onProgress(`stopping Apicurio Registry (pid ${registryPid})`);
    stopped.push(`schema-registry (${await stopApicurio(paths.pids)})`);
  } else {
    await stopApicurio(paths.pids); // forgets a pid file left by one that died
  }
  const kafkaPid = runningBrokerPid(paths.pids);
  if (kafkaPid !== undefined) {
    onProgress(`stopping Kafka (pid ${kafkaPid})`);
    const how = await stopProcess(kafkaPid, 60_000);
    stopped.push(`kafka (${how})`);
  }
  clearPid(paths.pids, 'kafka');
  const redisPid = runningRedisPid(paths.pids);
  if (redisPid !== undefined) {
    onProgress(`stopping redis-server (pid ${redisPid})`);
    stopped.push(`redis (${await stopProcess(redisPid, 10_000)})`);
  }
  clearPid(paths.pids, 'redis');
  const rabbitPid = runningRabbitPid(paths.pids);
  if (rabbitPid !== undefined) {
    onProgress(`stopping RabbitMQ (pid ${rabbitPid})`);
    stopped.push(`rabbitmq (${await stopProcess(rabbitPid, 30_000)})`);
  }
  clearPid(paths.pids, 'rabbitmq');
  const marker = join(paths.pids, POSTGRES_MARKER);
  if (existsSync(marker)) {
    onProgress('stopping the PostgreSQL cluster that up started');
    stopLocalPostgres();
    rmSync(marker, { force: true });
    stopped.push('postgres');
  }
  return stopped;
}

export async function stackStatus(config: StacklConfig): Promise<StackReport> {
  const paths = stackPaths(config.stateDir);
  const kafkaPid = runningBrokerPid(paths.pids);
  const clusterPids = clusterNodePids(clusterHome(paths));
  const redisPid = runningRedisPid(paths.pids);
  const rabbitPid = runningRabbitPid(paths.pids);
  const registryPid = runningRegistryPid(paths.pids);
  const registryUrl = registryState(paths.pids)?.url ?? config.schemaRegistryUrl ?? DEFAULT_REGISTRY_URL;
  let refused: string | undefined;
  const [kafka, postgres, redis, rabbitmq, registry] = await Promise.all([
    brokerAnswers(config.kafkaBrokers, 1500, config.kafkaSecurity).catch((error: unknown) => {
      refused = error instanceof Error ? error.message : String(error);
      return false;
    }),
    postgresAnswers(config.databaseUrl),
    redisAnswers(config.redisUrl),
    rabbitAnswers(config.rabbitmqUrl),
    registryPid === undefined ? false : registryAnswers(registryUrl),
  ]);
  return {
    kafka: {
      address: config.kafkaBrokers.join(','),
      answering: kafka,
      ours: kafkaPid !== undefined || clusterPids.size > 0,
      ...(refused === undefined ? {} : { refused }),
      ...(clusterPids.size === 0 ? {} : { nodePids: Object.fromEntries(clusterPids), version: config.kafkaVersion }),
      ...(kafkaPid !== undefined ? { pid: kafkaPid, version: config.kafkaVersion } : {}),
    },
    postgres: { address: new URL(config.databaseUrl).host, answering: postgres, ours: existsSync(join(paths.pids, POSTGRES_MARKER)) },
    redis: { address: new URL(config.redisUrl).host, answering: redis, ours: redisPid !== undefined, ...(redisPid ? { pid: redisPid } : {}) },
    rabbitmq: { address: new URL(config.rabbitmqUrl).host, answering: rabbitmq, ours: rabbitPid !== undefined, ...(rabbitPid ? { pid: rabbitPid } : {}) },
    ...(registryPid === undefined ? {} : { schemaRegistry: registryReport(config, registryUrl, { answering: registry, ours: true, pid: registryPid }) }),
    logs: paths.logs,
    elapsedMs: 0,
  };
}

function splitHostPort(broker: string): [string, number] {
  const at = broker.lastIndexOf(':');
  return [broker.slice(0, at), Number(broker.slice(at + 1))];
}

const DEFAULT_REGISTRY_URL = ccompatUrl('127.0.0.1', 8081);

/** What `up --with-registry` will do: use ours or theirs, or start one (on these ports, with this java). */
type RegistryPlan = { kind: 'running'; url: string; ours: boolean; pid?: number } | { kind: 'start'; url: string; host: string; port: number; managementPort: number; java: string };

/**
 * The registry's HTTP port comes from STACKL_SCHEMA_REGISTRY_URL (default 127.0.0.1:8081),
 * its management port is that + 1000. Ours is reused; one answering there is used; nothing
 * answering off this machine, or at a URL Apicurio would not serve, is refused.
 */
async function planRegistry(config: StacklConfig, pidsDir: string): Promise<RegistryPlan> {
  const pid = runningRegistryPid(pidsDir);
  if (pid !== undefined) return { kind: 'running', url: registryState(pidsDir)?.url ?? config.schemaRegistryUrl ?? DEFAULT_REGISTRY_URL, ours: true, pid };
  const url = config.schemaRegistryUrl ?? DEFAULT_REGISTRY_URL;
  if (await registryAnswers(url)) return { kind: 'running', url, ours: false };
  const parsed = new URL(url);
  if (!isLoopback(parsed.hostname)) {
    throw new ServiceUnavailableError('schema-registry', `no schema registry answers at ${maskUrl(url)} and that is not this machine, so one cannot be started here.`);
  }
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const host = parsed.hostname === 'localhost' ? '127.0.0.1' : parsed.hostname.replace(/^\[|\]$/g, '');
  const served = ccompatUrl(host, port);
  if (parsed.protocol !== 'http:' || parsed.pathname.replace(/\/+$/, '') !== CCOMPAT_PATH || parsed.username !== '') {
    throw new ConfigError(`STACKL_SCHEMA_REGISTRY_URL is ${maskUrl(url)}, but no registry answers there and the local Apicurio would serve ${served}: set that, or point it at a registry that runs`);
  }
  return { kind: 'start', url: served, host, port, managementPort: port + 1000 <= 65_535 ? port + 1000 : port - 1000, java: findRegistryJava() };
}

async function registryUp(config: StacklConfig, plan: RegistryPlan, onProgress: (m: string) => void): Promise<SchemaRegistryReport> {
  if (plan.kind === 'running') {
    if (!plan.ours) return registryReport(config, plan.url, { answering: true, ours: false });
    // Ours from an earlier `up`: startApicurio waits until it answers (it may still be starting).
    const port = Number(new URL(plan.url).port);
    const running = await startApicurio({ port, managementPort: port + 1000, home: config.stateDir, cacheDir: config.cacheDir, onProgress });
    return registryReport(config, running.url, { answering: true, ours: true, pid: running.pid });
  }
  const { host, port, managementPort, java } = plan;
  const running = await startApicurio({ host, port, managementPort, java, home: config.stateDir, cacheDir: config.cacheDir, postgresUrl: registryDatabaseUrl(config.databaseUrl), onProgress });
  return registryReport(config, running.url, { answering: true, ours: true, pid: running.pid });
}

function registryReport(config: StacklConfig, url: string, state: Omit<ServiceReport, 'address'>): SchemaRegistryReport {
  return {
    address: new URL(url).host,
    url,
    ...state,
    ...(config.schemaRegistryUrl === undefined ? { clientEnv: { STACKL_SCHEMA_REGISTRY_URL: url } } : {}),
  };
}

/** The local registry keeps its schemas in a database of its own beside STACKL's (`stackl` → `stackl_registry`), on the same server. */
export function registryDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}_registry`;
  url.search = '';
  return url.toString();
}

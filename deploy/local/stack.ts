// `up`, `down` and `status` of the local stack: Kafka (provisioned from Maven
// Central), PostgreSQL, Redis and, when installed, RabbitMQ. `up` is idempotent and records what it started;
// `down` stops only that, so a developer's own services are never touched.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { channelNameFrom, type StacklConfig } from '../../core/config.js';
import { ServiceUnavailableError } from '../../core/errors.js';
import { isSecured } from '../../topics/kafka-options.js';
import { clusterDown, clusterHome, clusterUp, type ClusterChoice, type ClusterReport } from './cluster-stack.js';
import { clusterNodePids } from './kafka-cluster.js';
import { brokerAnswers, runningBrokerPid, startBroker, waitForBroker } from './kafka-broker.js';
import { ensureKafkaInstalled } from './kafka-install.js';
import { stackPaths } from './paths.js';
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
  logs: string;
  elapsedMs: number;
}

const POSTGRES_MARKER = 'postgres.started';

/** `cluster`: Kafka as several KRaft nodes and/or behind SASL_SSL (`stackl up --nodes 3 --secure`) instead of the single node. */
export async function stackUp(config: StacklConfig, onProgress: (m: string) => void = () => {}, cluster?: ClusterChoice): Promise<StackReport> {
  const began = Date.now();
  const paths = stackPaths(config.stateDir);

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
  let refused: string | undefined;
  const [kafka, postgres, redis, rabbitmq] = await Promise.all([
    brokerAnswers(config.kafkaBrokers, 1500, config.kafkaSecurity).catch((error: unknown) => {
      refused = error instanceof Error ? error.message : String(error);
      return false;
    }),
    postgresAnswers(config.databaseUrl),
    redisAnswers(config.redisUrl),
    rabbitAnswers(config.rabbitmqUrl),
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
    logs: paths.logs,
    elapsedMs: 0,
  };
}

function splitHostPort(broker: string): [string, number] {
  const at = broker.lastIndexOf(':');
  return [broker.slice(0, at), Number(broker.slice(at + 1))];
}

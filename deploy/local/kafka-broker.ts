// Runs the locally installed Kafka as one detached JVM per node: formats storage
// once, starts the broker, and waits until a kafkajs admin call succeeds (ready means
// the broker answers a real request, not that some seconds have passed).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../../core/errors.js';
import type { KafkaSecurity } from '../../core/kafka-settings.js';
import { createKafka, KafkaAccessError } from '../../topics/kafka.js';
import type { KafkaInstall } from './kafka-install.js';
import { writeBrokerConfig, type BrokerLayout } from './kafka-config.js';
import { clearPid, isAlive, livePid, writePid } from './processes.js';

export const BROKER_MARKER = 'kafka.Kafka';
const BROKER_PID_NAME = 'kafka';

export interface BrokerOptions {
  install: KafkaInstall;
  layout: BrokerLayout;
  pidsDir: string;
  heap: string;
  /** Names its pid file and logs (`<name>.out`, `<name>-server.log`); default `kafka`, the single node's. */
  name?: string;
  /** Every node of a cluster formats with the same id; default: one made (and kept) per data folder. */
  clusterId?: string;
  /** More `StorageTool format` arguments, such as `--add-scram` for the users of a SASL listener. */
  formatArgs?: string[];
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function classpath(install: KafkaInstall): string {
  return `${install.libDir}/*`;
}

/** Formats the data directory once; the cluster id is kept beside it so a restart finds its data. */
function formatStorage(options: BrokerOptions, propertiesFile: string, loggingFlag: string, outFile: string): void {
  const { layout, install } = options;
  if (existsSync(join(layout.dataDir, 'meta.properties'))) return;
  const idFile = join(layout.configDir, 'cluster-id');
  const clusterId = options.clusterId ?? (existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : randomClusterId());
  writeFileSync(idFile, `${clusterId}\n`);
  const result = spawnSync(
    javaBinary(),
    ['-Xmx256m', loggingFlag, '-cp', classpath(install), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile, '--ignore-formatted', ...(options.formatArgs ?? [])],
    { encoding: 'utf8' },
  );
  // The tool echoes its arguments on some errors; SCRAM passwords stay out of the log.
  writeFileSync(outFile, redactScram(`${result.stdout ?? ''}${result.stderr ?? ''}`), { flag: 'a' });
  if (result.status !== 0) {
    throw new ServiceUnavailableError('kafka', `formatting Kafka storage failed (exit ${result.status}); see ${outFile}`);
  }
}

function redactScram(text: string): string {
  return text.replace(/password=[^,\]\s]*/g, 'password=***');
}

/**
 * A KRaft cluster id: 16 random bytes, base64url. One id in 64 would start with "-",
 * which kafka-storage's argument parser takes for an option ("--cluster-id/-t: expected
 * one argument"), failing the format; such ids are drawn again, as Kafka's own do.
 */
export function randomClusterId(): string {
  for (;;) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    const id = Buffer.from(bytes).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function runningBrokerPid(pidsDir: string, name = BROKER_PID_NAME): number | undefined {
  return livePid(pidsDir, name, BROKER_MARKER);
}

/** Starts the broker unless the one we started before is still running. Returns its pid. */
export function startBroker(options: BrokerOptions): { pid: number; started: boolean } {
  const name = options.name ?? BROKER_PID_NAME;
  const running = runningBrokerPid(options.pidsDir, name);
  if (running !== undefined) return { pid: running, started: false };
  clearPid(options.pidsDir, name);

  const { propertiesFile, loggingFlag } = writeBrokerConfig(options.layout, options.install.major, name);
  const outFile = join(options.layout.logsDir, `${name}.out`);
  formatStorage(options, propertiesFile, loggingFlag, outFile);

  const out = openSync(outFile, 'a');
  const child = spawn(
    javaBinary(),
    [
      `-Xms${options.heap}`,
      `-Xmx${options.heap}`,
      '-XX:+UseSerialGC',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      loggingFlag,
      '-cp',
      classpath(options.install),
      BROKER_MARKER,
      propertiesFile,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  if (child.pid === undefined) throw new ServiceUnavailableError('kafka', `could not start java; is a JDK 17+ installed (JAVA_HOME or PATH)?`);
  child.unref();
  writePid(options.pidsDir, name, child.pid);
  return { pid: child.pid, started: true };
}

/**
 * One admin round trip; true when the broker answered. A broker that answers but
 * refuses our credentials or certificate throws (KafkaAccessError): it is there, so
 * starting another in its place or waiting longer would only hide the real problem.
 */
export async function brokerAnswers(brokers: string[], timeoutMs = 1500, security: KafkaSecurity = {}): Promise<boolean> {
  const kafka = createKafka({ clientId: 'stackl-probe', brokers, security, connectionTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs, retries: 0, quiet: true });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch (error) {
    if (error instanceof KafkaAccessError) throw error;
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export interface WaitOptions {
  security?: KafkaSecurity;
  /** The node's name, for the log files quoted when it dies (default `kafka`). */
  name?: string;
}

/** Waits until the broker answers; fails early, with the log's tail, if the JVM died. */
export async function waitForBroker(brokers: string[], pid: number | undefined, logsDir: string, timeoutMs: number, options: WaitOptions = {}): Promise<void> {
  const until = Date.now() + timeoutMs;
  const name = options.name ?? BROKER_PID_NAME;
  while (Date.now() < until) {
    if (await brokerAnswers(brokers, 1500, options.security)) return;
    if (pid !== undefined && !isAlive(pid)) {
      throw new ServiceUnavailableError('kafka', `the Kafka broker exited during start-up. Last lines of its log:\n${tail(join(logsDir, `${name}.out`))}\n${tail(join(logsDir, `${name}-server.log`))}`);
    }
    await sleep(250);
  }
  throw new ServiceUnavailableError('kafka', `Kafka at ${brokers.join(',')} did not answer within ${timeoutMs} ms; logs are in ${logsDir}`);
}

function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

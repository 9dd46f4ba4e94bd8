// Apicurio Registry, the optional schema registry of the local stack (`stackl up
// --with-registry`): one detached JVM with in-memory storage, its output in
// <STACKL_HOME>/logs/apicurio.log and its pid in <STACKL_HOME>/pids/, ready when its
// management interface says so. `startApicurio` runs one on given ports for a test.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../../core/errors.js';
import { APICURIO_VERSION, ensureApicurioInstalled, findRegistryJava } from './apicurio-install.js';
import { stackPaths } from './paths.js';
import { ensureDatabase, redact } from './postgres.js';
import { clearPid, isAlive, livePid, stopProcess, writePid } from './processes.js';

const PID_NAME = 'apicurio';
/** A system property Apicurio ignores, so a pid left behind is recognised as ours. */
const MARKER = 'stackl.service=schema-registry';
export const CCOMPAT_PATH = '/apis/ccompat/v7';
const READY_TIMEOUT_MS = 90_000;

export interface ApicurioOptions {
  port: number;
  managementPort: number;
  /** A STACKL_HOME: the log goes to <home>/logs/apicurio.log, the pid to <home>/pids/apicurio.pid. */
  home: string;
  /** Where the download is cached (STACKL_CACHE). */
  cacheDir: string;
  host?: string;
  /** The java to run (21+); found with findRegistryJava when absent. */
  java?: string;
  /**
   * Keep schemas in this PostgreSQL database (a postgres:// URL; created when missing) instead of
   * in memory. Records on Kafka name schemas by id: a registry that forgot them at a restart
   * would leave every record written before it unreadable, or read with another schema.
   */
  postgresUrl?: string;
  onProgress?: (message: string) => void;
}

export interface RunningApicurio {
  /** The Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
  url: string;
  pid: number;
  /** False when the one this home started before was still running. */
  started: boolean;
  stop(): Promise<'stopped' | 'killed'>;
}

/** What a pid file alone does not say: where ours listens. */
interface RegistryState {
  url: string;
  managementPort: number;
}

export function ccompatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}${CCOMPAT_PATH}`;
}

export function runningRegistryPid(pidsDir: string): number | undefined {
  return livePid(pidsDir, PID_NAME, MARKER);
}

export function registryState(pidsDir: string): RegistryState | undefined {
  const file = join(pidsDir, `${PID_NAME}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RegistryState) : undefined;
}

/** True when GET <url>/subjects answers 200 with a JSON array: a Confluent-compatible registry. */
export async function registryAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const target = new URL(`${url}/subjects`);
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (target.username !== '' || target.password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  try {
    const response = await fetch(target, { headers, signal: AbortSignal.timeout(timeoutMs) });
    return response.status === 200 && Array.isArray(await response.json());
  } catch {
    return false;
  }
}

/** Starts Apicurio unless the one this home started is still running; resolves once it is ready. */
export async function startApicurio(options: ApicurioOptions): Promise<RunningApicurio> {
  const paths = stackPaths(options.home);
  const onProgress = options.onProgress ?? (() => {});
  const logFile = join(paths.logs, 'apicurio.log');
  const running = runningRegistryPid(paths.pids);
  if (running !== undefined) {
    const url = registryState(paths.pids)?.url ?? ccompatUrl(options.host ?? '127.0.0.1', options.port);
    await waitReady(() => registryAnswers(url), running, logFile, `the schema registry this stack started (pid ${running}) does not answer at ${url}`);
    return { url, pid: running, started: false, stop: () => stopApicurio(paths.pids) };
  }
  clearPid(paths.pids, PID_NAME);
  const host = options.host ?? '127.0.0.1';
  const url = ccompatUrl(host, options.port);
  const java = options.java ?? findRegistryJava();
  await portFree(host, options.port, `the registry's HTTP port ${options.port}`);
  await portFree(host, options.managementPort, `its management port ${options.managementPort}`);
  const appDir = await ensureApicurioInstalled(options.cacheDir, join(paths.logs, 'apicurio-download.log'), onProgress);
  const storage = options.postgresUrl === undefined ? [] : await postgresStorage(options.postgresUrl);
  const workDir = join(paths.root, 'apicurio');
  mkdirSync(workDir, { recursive: true });
  onProgress(`starting Apicurio Registry ${APICURIO_VERSION} on ${host}:${options.port} (management port ${options.managementPort}, ${options.postgresUrl === undefined ? 'in-memory storage' : `schemas kept in PostgreSQL ${redact(options.postgresUrl)}`}, ${java})`);
  const began = Date.now();
  const out = openSync(logFile, 'a');
  // Quarkus reads -D system properties, so they go before -jar; after it they are ignored.
  const child = spawn(
    java,
    [
      '-Xmx512m',
      '-XX:+ExitOnOutOfMemoryError',
      `-D${MARKER}`,
      `-Dquarkus.http.host=${host}`,
      `-Dquarkus.http.port=${options.port}`,
      `-Dquarkus.management.host=${host}`,
      `-Dquarkus.management.port=${options.managementPort}`,
      ...storage,
      '-jar',
      join(appDir, 'quarkus-run.jar'),
    ],
    { detached: true, cwd: workDir, stdio: ['ignore', out, out], env: { ...process.env, ...storageEnv(options.postgresUrl) } },
  );
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new ServiceUnavailableError('schema-registry', `could not run ${java}`);
  child.unref();
  writePid(paths.pids, PID_NAME, pid);
  writeFileSync(join(paths.pids, `${PID_NAME}.json`), `${JSON.stringify({ url, managementPort: options.managementPort } satisfies RegistryState)}\n`);
  const health = `http://${host.includes(':') ? `[${host}]` : host}:${options.managementPort}/health/ready`;
  try {
    await waitReady(() => answers200(health), pid, logFile, `Apicurio Registry did not become ready (${health})`);
  } catch (error) {
    await stopApicurio(paths.pids);
    throw error;
  }
  onProgress(`Apicurio Registry ready in ${((Date.now() - began) / 1000).toFixed(1)} s at ${url}`);
  return { url, pid, started: true, stop: () => stopApicurio(paths.pids) };
}

/** Stops the registry this home started, if it still runs, and forgets it. */
export async function stopApicurio(pidsDir: string): Promise<'stopped' | 'killed'> {
  const pid = runningRegistryPid(pidsDir);
  const how = pid === undefined ? 'stopped' : await stopProcess(pid, 20_000);
  clearPid(pidsDir, PID_NAME);
  rmSync(join(pidsDir, `${PID_NAME}.json`), { force: true });
  return how;
}

async function answers200(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1500) })).status === 200;
  } catch {
    return false;
  }
}

/** Polls `ready` for up to 90 s; fails at once, with the log's tail, when the JVM exits. */
async function waitReady(ready: () => Promise<boolean>, pid: number, logFile: string, what: string): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    if (await ready()) return;
    if (!isAlive(pid)) {
      throw new ServiceUnavailableError('schema-registry', `Apicurio Registry (pid ${pid}) exited during start-up; see ${logFile}. Its last lines:\n${tail(logFile)}`);
    }
    await sleep(250);
  }
  throw new ServiceUnavailableError('schema-registry', `${what} within ${READY_TIMEOUT_MS / 1000} s; see ${logFile}`);
}

function portFree(host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ServiceUnavailableError(
          'schema-registry',
          `${what} on ${host} is taken (${error.code ?? error.message}) by something that is not a schema registry; free it, or set STACKL_SCHEMA_REGISTRY_URL to another loopback port (the management port is that port + 1000)`,
        ),
      ),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Apicurio's SQL storage on PostgreSQL: the database made when missing, the settings as -D flags. */
async function postgresStorage(postgresUrl: string): Promise<string[]> {
  await ensureDatabase(postgresUrl);
  const url = new URL(postgresUrl);
  const port = url.port === '' ? '5432' : url.port;
  return [
    '-Dapicurio.storage.kind=sql',
    '-Dapicurio.storage.sql.kind=postgresql',
    `-Dapicurio.datasource.url=jdbc:postgresql://${url.hostname}:${port}${url.pathname}`,
    `-Dapicurio.datasource.username=${decodeURIComponent(url.username)}`,
  ];
}

/** The password goes by environment, where `ps` does not show it (Quarkus reads APICURIO_DATASOURCE_PASSWORD). */
function storageEnv(postgresUrl: string | undefined): Record<string, string> {
  return postgresUrl === undefined ? {} : { APICURIO_DATASOURCE_PASSWORD: decodeURIComponent(new URL(postgresUrl).password) };
}

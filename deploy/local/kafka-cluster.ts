// A Kafka cluster of our own in one folder: N combined broker+controller nodes from
// the same Maven jars as the single node (one cluster id, one voter set, a node id,
// ports and log.dirs each), optionally with SASL_SSL client listeners: TLS material
// from kafka-tls.ts and SCRAM users created when storage is formatted. Tests start one
// on free ports; `stackl up --nodes 3` starts one beside the local stack.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../../core/errors.js';
import type { KafkaSecurity } from '../../core/kafka-settings.js';
import { Secret } from '../../core/secret.js';
import { createKafka } from '../../topics/kafka.js';
import { randomClusterId, runningBrokerPid, startBroker, waitForBroker } from './kafka-broker.js';
import type { BrokerLayout, SecureListener } from './kafka-config.js';
import type { KafkaInstall } from './kafka-install.js';
import { ensureTlsMaterial, type TlsMaterial } from './kafka-tls.js';
import { clearPid, stopProcess } from './processes.js';

export interface NodePorts {
  /** The client listener (PLAINTEXT, or SASL_SSL when secure). */
  port: number;
  controllerPort: number;
  /** With `secure`: a second SASL_SSL listener on [::1]. */
  ipv6Port?: number;
}

export interface ClusterSpec {
  /** The cluster's own folder: per-node data and configuration, logs, pid files, TLS material. */
  home: string;
  install: KafkaInstall;
  /** One entry per node, node ids 1..N, all on 127.0.0.1. */
  nodes: NodePorts[];
  /** Heap of each node's JVM. */
  heap: string;
  /** SASL_SSL client listeners (SCRAM-SHA-256/512 and PLAIN), TLS certificates made with openssl. */
  secure?: boolean;
  startTimeoutMs?: number;
  /** Where the nodes' logs go; default `<home>/logs`. */
  logsDir?: string;
}

/** The SASL users of a secure cluster; `admin` is also what the brokers log in as to each other. */
export interface ClusterUsers {
  admin: string;
  stackl: string;
}

export interface KafkaCluster {
  /** Bootstrap addresses of every node (127.0.0.1). */
  brokers: string[];
  /** [::1] addresses of nodes that listen there too. */
  ipv6Brokers: string[];
  clusterId: string;
  /** Present for a secure cluster: its users' passwords and the PEM files clients use. */
  users?: ClusterUsers;
  /** The `stackl` user's password alone, for KAFKA_SASL_PASSWORD_FILE. */
  passwordFile?: string;
  tls?: TlsMaterial;
  /** How a client logs in as `stackl` (SCRAM-SHA-256 over TLS); empty for a plaintext cluster. */
  security: KafkaSecurity;
  /** The same as environment variables (the password by file), for roles and CLI commands run as processes. */
  clientEnv: Record<string, string>;
  pid(nodeId: number): number | undefined;
  /** SIGKILL of one node (its data stays; `restart` brings it back). */
  kill(nodeId: number): void;
  restart(nodeId: number): Promise<void>;
  /** Stops every node: SIGTERM and a grace period, or SIGKILL at once (tests that delete the folder). */
  stop(options?: { kill?: boolean }): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startKafkaCluster(spec: ClusterSpec): Promise<KafkaCluster> {
  const dirs = { logs: spec.logsDir ?? join(spec.home, 'logs'), pids: join(spec.home, 'pids') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const clusterId = keptValue(join(spec.home, 'cluster-id'), randomClusterId);
  const users = spec.secure ? keptUsers(join(spec.home, 'users.json')) : undefined;
  const passwordFile = join(spec.home, 'stackl.password');
  if (users !== undefined) writeFileSync(passwordFile, users.stackl, { mode: 0o600 });
  const tls = spec.secure ? ensureTlsMaterial(join(spec.home, 'tls')) : undefined;
  const secure: SecureListener | undefined =
    users === undefined || tls === undefined
      ? undefined
      : { keystoreFile: tls.brokerKeystoreFile, truststoreFile: tls.ca.certFile, interBroker: { username: 'admin', password: users.admin }, plainUsers: { stackl: users.stackl } };
  const voters = spec.nodes.map((n, i) => ({ nodeId: i + 1, host: HOST, controllerPort: n.controllerPort }));
  const security = clientSecurity(users, tls);

  const nodeName = (nodeId: number) => `kafka-node-${nodeId}`;
  const layoutOf = (nodeId: number): BrokerLayout => {
    const ports = spec.nodes[nodeId - 1];
    if (ports === undefined) throw new RangeError(`the cluster has no node ${nodeId}`);
    const dir = join(spec.home, nodeName(nodeId));
    const layout = { host: HOST, port: ports.port, controllerPort: ports.controllerPort, dataDir: join(dir, 'data'), configDir: join(dir, 'config'), logsDir: dirs.logs };
    mkdirSync(layout.dataDir, { recursive: true });
    mkdirSync(layout.configDir, { recursive: true });
    return {
      ...layout,
      ...(spec.nodes.length > 1 ? { cluster: { nodeId, voters } } : {}),
      ...(secure === undefined ? {} : { secure: { ...secure, ...(ports.ipv6Port === undefined ? {} : { ipv6Port: ports.ipv6Port }) } }),
    };
  };
  const startNode = (nodeId: number): number =>
    startBroker({
      install: spec.install,
      layout: layoutOf(nodeId),
      pidsDir: dirs.pids,
      heap: spec.heap,
      name: nodeName(nodeId),
      clusterId,
      formatArgs: users === undefined ? [] : scramArgs(users),
    }).pid;
  const timeoutMs = spec.startTimeoutMs ?? 180_000;
  const waitForNode = (nodeId: number, pid: number) =>
    waitForBroker([`${HOST}:${spec.nodes[nodeId - 1]?.port}`], pid, dirs.logs, timeoutMs, { security, name: nodeName(nodeId) });

  const brokers = spec.nodes.map((n) => `${HOST}:${n.port}`);
  // Every JVM starts before any wait: a node of a cluster answers only once a quorum has formed.
  const pids = spec.nodes.map((_, i) => startNode(i + 1));
  await Promise.all(pids.map((pid, i) => waitForNode(i + 1, pid)));
  await waitForMembers(brokers, security, spec.nodes.length, timeoutMs);

  return {
    brokers,
    ipv6Brokers: spec.nodes.flatMap((n) => (spec.secure && n.ipv6Port !== undefined ? [`[::1]:${n.ipv6Port}`] : [])),
    clusterId,
    ...(users === undefined ? {} : { users, passwordFile }),
    ...(tls === undefined ? {} : { tls }),
    security,
    clientEnv: clientEnv(brokers, users === undefined ? undefined : passwordFile, tls),
    pid: (nodeId) => runningBrokerPid(dirs.pids, nodeName(nodeId)),
    kill(nodeId) {
      const pid = runningBrokerPid(dirs.pids, nodeName(nodeId));
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    },
    async restart(nodeId) {
      await waitForNode(nodeId, startNode(nodeId));
    },
    stop: (options = {}) => stopKafkaCluster(spec.home, options).then(() => {}),
  };
}

/** The pids of the running nodes of the cluster in `home`, by node id (for `down` and `status` in a later process). */
export function clusterNodePids(home: string): Map<number, number> {
  const pids = new Map<number, number>();
  const dir = join(home, 'pids');
  if (!existsSync(dir)) return pids;
  for (const file of readdirSync(dir)) {
    const nodeId = Number(/^kafka-node-(\d+)\.pid$/.exec(file)?.[1]);
    const pid = Number.isInteger(nodeId) ? runningBrokerPid(dir, `kafka-node-${nodeId}`) : undefined;
    if (pid !== undefined) pids.set(nodeId, pid);
  }
  return pids;
}

/** Stops every node of the cluster in `home` at once; returns how each stopped. */
export async function stopKafkaCluster(home: string, options: { kill?: boolean } = {}): Promise<string[]> {
  const dir = join(home, 'pids');
  return Promise.all(
    [...clusterNodePids(home)].map(async ([nodeId, pid]) => {
      const how = await stopProcess(pid, options.kill ? 0 : 60_000);
      clearPid(dir, `kafka-node-${nodeId}`);
      return `kafka node ${nodeId} (${how})`;
    }),
  );
}

/** Ready means every node registered with the controllers, not only that each answers. */
async function waitForMembers(brokers: string[], security: KafkaSecurity, count: number, timeoutMs: number): Promise<void> {
  const admin = createKafka({ clientId: 'stackl-cluster-probe', brokers, security, retries: 0, quiet: true }).admin();
  const until = Date.now() + timeoutMs;
  let seen = 0;
  try {
    await admin.connect();
    while (Date.now() < until) {
      seen = await admin.describeCluster().then((c) => c.brokers.length, () => seen);
      if (seen >= count) return;
      await sleep(250);
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
  throw new ServiceUnavailableError('kafka', `only ${seen} of ${count} Kafka nodes joined the cluster at ${brokers.join(',')} within ${timeoutMs} ms`);
}

function clientSecurity(users: ClusterUsers | undefined, tls: TlsMaterial | undefined): KafkaSecurity {
  if (users === undefined || tls === undefined) return {};
  return {
    tls: { rejectUnauthorized: true, ca: readFileSync(tls.ca.certFile, 'utf8') },
    sasl: { mechanism: 'scram-sha-256', username: 'stackl', password: new Secret(users.stackl) },
  };
}

function clientEnv(brokers: string[], passwordFile: string | undefined, tls: TlsMaterial | undefined): Record<string, string> {
  if (passwordFile === undefined || tls === undefined) return { KAFKA_BROKERS: brokers.join(',') };
  return {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: tls.ca.certFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-256',
    KAFKA_SASL_USERNAME: 'stackl',
    KAFKA_SASL_PASSWORD_FILE: passwordFile,
  };
}

/** SCRAM credentials exist before the first start: KRaft keeps them in its metadata log. */
function scramArgs(users: ClusterUsers): string[] {
  return Object.entries(users).flatMap(([name, password]) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => ['--add-scram', `${mechanism}=[name=${name},password=${password}]`]),
  );
}

/** Users are made once per folder: the formatted storage already holds their credentials. */
function keptUsers(file: string): ClusterUsers {
  const made = (): string => randomBytes(18).toString('hex');
  const text = keptValue(file, () => JSON.stringify({ admin: made(), stackl: made() }));
  return JSON.parse(text) as ClusterUsers;
}

function keptValue(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

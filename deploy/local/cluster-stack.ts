// `stackl up --nodes 3` and `stackl up --secure`: the local stack's Kafka as a KRaft
// cluster and/or behind SASL_SSL, in `.stackl/kafka-cluster/`, apart from the single
// node's data. Node i listens on the first KAFKA_BROKERS port + 2(i-1), its controller
// one above. The settings a client needs are printed; the password stays in a file.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StacklConfig } from '../../core/config.js';
import { ConfigError, ServiceUnavailableError } from '../../core/errors.js';
import { parseBrokerAddress } from '../../core/kafka-settings.js';
import { runningBrokerPid } from './kafka-broker.js';
import { clusterNodePids, startKafkaCluster, stopKafkaCluster } from './kafka-cluster.js';
import { ensureKafkaInstalled } from './kafka-install.js';
import type { StackPaths } from './paths.js';

export interface ClusterChoice {
  nodes: number;
  secure: boolean;
}

export interface ClusterReport {
  address: string;
  nodes: { nodeId: number; pid: number | undefined }[];
  secure: boolean;
  /** What clients set to reach it (no secret: the password is named by file). */
  clientEnv: Record<string, string>;
}

/** The cluster's heap per node unless STACKL_KAFKA_HEAP is smaller: three JVMs share the machine. */
const NODE_HEAP = '384m';

export function clusterHome(paths: StackPaths): string {
  return join(paths.root, 'kafka-cluster');
}

export async function clusterUp(config: StacklConfig, paths: StackPaths, choice: ClusterChoice, onProgress: (m: string) => void): Promise<ClusterReport> {
  if (!(choice.nodes >= 1 && choice.nodes <= 5)) throw new ConfigError(`--nodes must be 1 to 5 on one machine, got ${choice.nodes}`);
  const home = clusterHome(paths);
  const [first] = config.kafkaBrokers;
  const { host, port } = parseBrokerAddress(first ?? '');
  if (host !== '127.0.0.1' && host !== 'localhost') throw new ConfigError(`stackl up --nodes/--secure starts Kafka on 127.0.0.1; KAFKA_BROKERS names ${first}`);
  if (runningBrokerPid(paths.pids) !== undefined) {
    throw new ServiceUnavailableError('kafka', 'the local single-node Kafka is running; stop it with `stackl down` before starting a cluster on the same ports');
  }
  mkdirSync(home, { recursive: true });
  keepChoice(join(home, 'choice.json'), choice);
  const install = await ensureKafkaInstalled(config.cacheDir, config.kafkaVersion, join(paths.logs, 'kafka-download.log'), onProgress);
  const nodes = Array.from({ length: choice.nodes }, (_, i) => ({ port: port + 2 * i, controllerPort: port + 2 * i + 1 }));
  onProgress(`starting Kafka ${config.kafkaVersion} as ${choice.nodes} KRaft node${choice.nodes === 1 ? '' : 's'}${choice.secure ? ' with SASL_SSL listeners' : ''} on ports ${nodes.map((n) => n.port).join(', ')}`);
  const cluster = await startKafkaCluster({ home, install, nodes, heap: smallerHeap(config.kafkaHeap, NODE_HEAP), secure: choice.secure, logsDir: paths.logs });
  return {
    address: cluster.brokers.join(','),
    nodes: nodes.map((_, i) => ({ nodeId: i + 1, pid: cluster.pid(i + 1) })),
    secure: choice.secure,
    clientEnv: cluster.clientEnv,
  };
}

export async function clusterDown(paths: StackPaths, onProgress: (m: string) => void): Promise<string[]> {
  const home = clusterHome(paths);
  const running = clusterNodePids(home);
  if (running.size === 0) return [];
  onProgress(`stopping ${running.size} Kafka cluster node${running.size === 1 ? '' : 's'}`);
  return stopKafkaCluster(home);
}

/** A folder formatted for one shape is not silently reused for another (node ids, users). */
function keepChoice(file: string, choice: ClusterChoice): void {
  if (existsSync(file)) {
    const before = JSON.parse(readFileSync(file, 'utf8')) as ClusterChoice;
    if (before.nodes !== choice.nodes || before.secure !== choice.secure) {
      throw new ConfigError(
        `${file} holds a cluster of ${before.nodes} node(s)${before.secure ? ', secure' : ''}; ask for the same, or stop it and remove ${join(file, '..')} to start another`,
      );
    }
    return;
  }
  writeFileSync(file, `${JSON.stringify(choice)}\n`);
}

function smallerHeap(configured: string, cap: string): string {
  const mib = (heap: string) => Number(heap.slice(0, -1)) * (heap.endsWith('g') ? 1024 : 1);
  return mib(configured) < mib(cap) ? configured : cap;
}

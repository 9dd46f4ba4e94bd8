// A Kafka cluster of a test file's own (deploy/local/kafka-cluster.ts) on free ports in
// a temporary folder, from the cached Maven jars: N plaintext nodes, or SASL_SSL ones.
// `close` kills every node and removes the folder, whatever the tests did to them.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config.js';
import { startKafkaCluster, stopKafkaCluster, type KafkaCluster } from '../../deploy/local/kafka-cluster.js';
import { ensureKafkaInstalled } from '../../deploy/local/kafka-install.js';
import { freePort } from './ports.js';

export interface OwnKafka {
  cluster: KafkaCluster;
  home: string;
  /** How long the nodes took from the first JVM to a full cluster. */
  startMs: number;
  close(): Promise<void>;
}

export async function startOwnKafka(label: string, options: { nodes: number; secure?: boolean; ipv6?: boolean; heap?: string }): Promise<OwnKafka> {
  const home = mkdtempSync(join(tmpdir(), `stackl-${label}-`));
  const defaults = loadConfig();
  const install = await ensureKafkaInstalled(defaults.cacheDir, defaults.kafkaVersion, join(home, 'kafka-download.log'));
  const ports = await distinctFreePorts(options.nodes * (options.ipv6 ? 3 : 2));
  const take = (): number => ports.pop() ?? 0;
  const nodes = Array.from({ length: options.nodes }, () => ({ port: take(), controllerPort: take(), ...(options.ipv6 ? { ipv6Port: take() } : {}) }));
  const began = Date.now();
  const spec = { home, install, nodes, heap: options.heap ?? '384m', secure: options.secure === true };
  const close = async (cluster?: KafkaCluster) => {
    await cluster?.stop({ kill: true });
    rmSync(home, { recursive: true, force: true });
  };
  let cluster: KafkaCluster;
  try {
    cluster = await startKafkaCluster(spec);
  } catch (error) {
    // Nodes that did start must not outlive a failed start; their logs go into the error, the folder goes.
    await stopKafkaCluster(home, { kill: true });
    const logs = logTails(join(home, 'logs'));
    await close();
    throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
  }
  return { cluster, home, startMs: Date.now() - began, close: () => close(cluster) };
}

/** The OS may hand the same free port out twice in a row; a node's listeners must differ. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function logTails(dir: string): string {
  if (!existsSync(dir)) return '(no logs)';
  return readdirSync(dir)
    .map((file) => `--- ${file}\n${readFileSync(join(dir, file), 'utf8').trimEnd().split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

/** The process environment without any KAFKA_* setting, so only the test's own apply. */
export function envWithoutKafka(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KAFKA_')));
}

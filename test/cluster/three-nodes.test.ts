// A 3-node KRaft cluster started as a user starts one, `stackl up --nodes 3` (combined
// broker+controller nodes from the same Maven jars as the single node), in a folder and
// on ports of this file's own: it forms one cluster, a topic with replication factor 3
// and min.insync.replicas 2 takes acks=all writes and hands them back, and it keeps
// doing so with the leader of its partition killed by SIGKILL; `stackl down` stops it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNodePids, stopKafkaCluster } from '../../deploy/local/kafka-cluster.js';
import { createKafka } from '../../topics/kafka.js';
import { waitForLeaders } from '../../topics/admin.js';
import { consumeCount } from '../support/kafka.js';
import { token } from '../support/names.js';
import { envWithoutKafka } from '../support/own-kafka.js';

const home = mkdtempSync(join(tmpdir(), 'stackl-three-nodes-'));
const clusterHome = join(home, 'kafka-cluster');
let env: Record<string, string | undefined>;
let brokers: string[];
let kafka: Kafka;

beforeAll(async () => {
  const base = await freePortRun(6);
  env = { ...envWithoutKafka(), STACKL_HOME: home, KAFKA_BROKERS: `127.0.0.1:${base}` };
  const began = Date.now();
  const up = spawnSync(process.execPath, ['dist/api/cli/main.js', 'up', '--nodes', '3'], { env, encoding: 'utf8', timeout: 240_000 });
  expect(up.status, up.stderr).toBe(0);
  process.stderr.write(`stackl up --nodes 3 took ${Date.now() - began} ms\n`);
  const report = JSON.parse(up.stdout) as { kafka: { address: string; cluster: { nodes: { nodeId: number; pid: number }[] } } };
  brokers = report.kafka.address.split(',');
  expect(brokers).toEqual([base, base + 2, base + 4].map((port) => `127.0.0.1:${port}`));
  expect(report.kafka.cluster.nodes.map((n) => n.nodeId)).toEqual([1, 2, 3]);
  kafka = createKafka({ brokers, clientId: `test-${token()}` });
});
afterAll(async () => {
  // Whatever the tests left running does not outlive them.
  await stopKafkaCluster(clusterHome, { kill: true });
  rmSync(home, { recursive: true, force: true });
});

describe('a 3-node KRaft cluster', () => {
  it('is one cluster of three nodes, each its own controller voter', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeCluster();
      expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
      expect(described.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual([...brokers].sort());
      expect(described.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(clusterNodePids(clusterHome).size).toBe(3);
    } finally {
      await admin.disconnect();
    }
  });

  it('replicates a topic three times, and serves acks=all writes and reads through the loss of its leader', async () => {
    const topic = `test.replicated.${token()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
      await waitForLeaders(admin, [topic]);
      const partition = await untilFullyReplicated(async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions[0]);
      expect([...partition.replicas].sort()).toEqual([1, 2, 3]);

      await produce(topic, ['a', 'b', 'c']);
      expect((await consumeCount(kafka, topic, 3)).map((c) => c.message.value?.toString())).toEqual(['a', 'b', 'c']);

      process.kill(clusterNodePids(clusterHome).get(partition.leader) ?? 0, 'SIGKILL');
      const after = await until(async () => {
        const p = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions[0];
        return p !== undefined && p.leader >= 0 && p.leader !== partition.leader ? p : undefined;
      });
      expect(after.leader).not.toBe(partition.leader);
      // Two replicas remain in sync, enough for min.insync.replicas=2: acks=all still succeeds.
      await produce(topic, ['d', 'e']);
      expect((await consumeCount(kafka, topic, 5, { timeoutMs: 60_000 })).map((c) => c.message.value?.toString())).toEqual(['a', 'b', 'c', 'd', 'e']);
    } finally {
      await admin.disconnect();
    }
  });
});

it('`stackl down` stops the nodes still running, and nothing else', () => {
  const running = [...clusterNodePids(clusterHome).keys()];
  expect(running.length).toBeGreaterThan(0);
  const down = spawnSync(process.execPath, ['dist/api/cli/main.js', 'down'], { env, encoding: 'utf8', timeout: 120_000 });
  expect(down.status, down.stderr).toBe(0);
  // Each node gets SIGTERM and 60 s; a node whose controlled shutdown overruns that (seen
  // once on a loaded machine, right after the leader-kill suite) is killed, and says so.
  const stopped = (JSON.parse(down.stdout) as { stopped: string[] }).stopped;
  expect(stopped.map((line) => /^kafka node (\d+) \((?:stopped|killed)\)$/.exec(line)?.[1])).toEqual(running.map(String));
  expect(clusterNodePids(clusterHome).size).toBe(0);
});

async function produce(topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: 'k', value })) });
  } finally {
    await producer.disconnect();
  }
}

interface PartitionView {
  leader: number;
  replicas: number[];
  isr: number[];
}

function untilFullyReplicated(read: () => Promise<PartitionView | undefined>): Promise<PartitionView> {
  return until(async () => {
    const partition = await read();
    return partition !== undefined && partition.isr.length === 3 ? partition : undefined;
  });
}

/** The first of `count` consecutive ports nothing listens on (node i takes base + 2(i-1) and the one above). */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 10_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Polls `read` until it gives a value; fails after 30 s. */
async function until<T>(read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

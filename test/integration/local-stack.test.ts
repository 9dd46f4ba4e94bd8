// The local stack's promises, on a second broker of its own (own ports, own
// STACKL_HOME) so the broker the other test files use is never disturbed:
// `up` is idempotent, a broker killed with SIGKILL comes back with its data on the
// next `up`, and `down` stops only what `up` started.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { brokerAnswers } from '../../deploy/local/kafka-broker.js';
import { isAlive } from '../../deploy/local/processes.js';
import { stackDown, stackUp } from '../../deploy/local/stack.js';
import { createKafka } from '../../topics/kafka.js';
import { consumeCount, createTopic } from '../support/kafka.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const home = mkdtempSync(join(tmpdir(), 'stackl-local-stack-'));
const [port, controllerPort] = [await freePort(), await freePort()];
const config = loadConfig({ ...process.env, STACKL_HOME: home, KAFKA_BROKERS: `127.0.0.1:${port}`, STACKL_KAFKA_CONTROLLER_PORT: String(controllerPort), STACKL_KAFKA_HEAP: '256m' });

afterAll(async () => {
  await stackDown(config);
  rmSync(home, { recursive: true, force: true });
});

describe('local stack', () => {
  it('starts once, survives kill -9 with its data, and stops only what it started', { timeout: 240_000 }, async () => {
    const first = await stackUp(config);
    expect(first.kafka).toMatchObject({ answering: true, ours: true, version: config.kafkaVersion });
    const pid = first.kafka.pid ?? 0;

    const again = await stackUp(config);
    expect(again.kafka.pid).toBe(pid);

    const kafka = createKafka(config, 'local-stack-test');
    const topic = 'survives.kill';
    await createTopic(kafka, topic);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ['a', 'b', 'c'].map((value) => ({ key: 'k', value })) });
    await producer.disconnect();

    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid));
    expect(await brokerAnswers(config.kafkaBrokers)).toBe(false);

    const revived = await stackUp(config);
    expect(revived.kafka.answering).toBe(true);
    expect(revived.kafka.pid).not.toBe(pid);
    const consumed = await consumeCount(kafka, topic, 3, { timeoutMs: 60_000 });
    expect(consumed.map((c) => c.message.value?.toString())).toEqual(['a', 'b', 'c']);

    const stopped = await stackDown(config);
    expect(stopped).toEqual([expect.stringMatching(/^kafka/)]);
    expect(await brokerAnswers(config.kafkaBrokers)).toBe(false);
    // The shared broker, PostgreSQL and Redis were not ours to stop.
    expect(await brokerAnswers(loadConfig().kafkaBrokers)).toBe(true);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

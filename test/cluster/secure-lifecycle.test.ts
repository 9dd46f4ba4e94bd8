// STACKL over SASL_SSL, on a broker of this file's own (TLS certificates made with
// openssl, SCRAM users created at format time): the whole task lifecycle through the
// broker and a worker; every mechanism and the IPv6 listener; and the refusals a user
// meets first (a wrong password, a CA that did not sign the broker's certificate), each
// ending the real CLI at once with one line that names the broker and the cause.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type StacklConfig } from '../../core/config.js';
import { createCertificateAuthority } from '../../deploy/local/kafka-tls.js';
import { KafkaBrokerClient } from '../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../processors/broker/kafka/lifecycle-app.js';
import { createKafka } from '../../topics/kafka.js';
import { topicNames } from '../../topics/names.js';
import { startWorker } from '../../workers/start-worker.js';
import type { Worker } from '../../workers/worker.js';
import { EventLog } from '../support/event-log.js';
import { consumeCount, createTopic } from '../support/kafka.js';
import { token, uniquePrefix } from '../support/names.js';
import { envWithoutKafka, startOwnKafka, type OwnKafka } from '../support/own-kafka.js';

let own: OwnKafka;
let config: StacklConfig;

beforeAll(async () => {
  own = await startOwnKafka('secure', { nodes: 1, secure: true, ipv6: true });
  process.stderr.write(`secure broker (SASL_SSL, one node) started in ${own.startMs} ms\n`);
  config = secureConfig({ STACKL_TOPIC_PREFIX: uniquePrefix('secure'), STACKL_PARTITIONS: '3' });
});
afterAll(async () => {
  await own?.close();
});

/** The configuration a user would write for this broker (client certificate included: the broker asks for one). */
function secureEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const tls = own.cluster.tls;
  return { ...envWithoutKafka(), ...own.cluster.clientEnv, KAFKA_SSL_CERT_FILE: tls?.clientCertFile, KAFKA_SSL_KEY_FILE: tls?.clientKeyFile, ...overrides };
}

function secureConfig(overrides: Record<string, string | undefined> = {}): StacklConfig {
  return loadConfig(secureEnv(overrides));
}

describe('the task lifecycle over SASL_SSL with SCRAM-SHA-256', () => {
  let broker: RunningLifecycleApp;
  let worker: Worker;
  let client: KafkaBrokerClient;
  let log: EventLog;

  beforeAll(async () => {
    expect(config.kafkaSecurity.sasl?.mechanism).toBe('scram-sha-256');
    expect(config.kafkaSecurity.tls?.rejectUnauthorized).toBe(true);
    broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: '4' });
    const kafka = createKafka(config, `test-${token()}`);
    client = new KafkaBrokerClient(kafka, topicNames(config.topicPrefix).requests, config.partitions);
    log = new EventLog(kafka, topicNames(config.topicPrefix).events);
    await log.start();
  });
  afterAll(async () => {
    await Promise.all([worker?.stop(), log?.stop(), client?.close()]);
    await broker?.stop();
  });

  it('completes a probe task, and rolls back one that fails, through the broker and a worker', async () => {
    const ok = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 20 } });
    const bad = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'fail' } });
    const completed = await log.waitFor(ok.taskId, (types) => types.at(-1) === 'TaskCompleted');
    const types = completed.map((e) => e.type);
    expect(types[0]).toBe('TaskSubmitted');
    expect(types).toContain('AttemptSucceeded');
    expect(types).not.toContain('AttemptFailed');
    expect(JSON.parse((completed.at(-1)?.body as { output: string }).output)).toEqual({ probe: 'ok', attempt: 1 });
    expect(completed.find((e) => e.type === 'AttemptStarted')?.body).toMatchObject({ workerId: worker.workerId });
    const rolledBack = await log.waitFor(bad.taskId, (types) => types.at(-1) === 'RollbackSucceeded');
    expect(rolledBack.find((e) => e.type === 'TaskFailed')?.body).toMatchObject({ reason: 'error' });
  });
});

describe('the other mechanisms and the IPv6 listener', () => {
  it.each([
    ['SCRAM-SHA-512 over [::1]', 'scram-sha-512', 'ipv6'],
    ['PLAIN over 127.0.0.1', 'plain', 'ipv4'],
  ])('produces and consumes with %s', async (_name, mechanism, family) => {
    const brokers = family === 'ipv6' ? own.cluster.ipv6Brokers : own.cluster.brokers;
    expect(brokers[0]).toMatch(family === 'ipv6' ? /^\[::1\]:\d+$/ : /^127\.0\.0\.1:\d+$/);
    const kafka = createKafka(secureConfig({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_BROKERS: brokers.join(',') }), `test-${token()}`);
    const topic = `test.secure.${token()}`;
    await createTopic(kafka, topic);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ['a', 'b'].map((value) => ({ key: 'k', value })) });
    await producer.disconnect();
    const consumed = await consumeCount(kafka, topic, 2);
    expect(consumed.map((c) => c.message.value?.toString())).toEqual(['a', 'b']);
  });
});

describe('refusals end the CLI at once, in one line naming the broker and the cause', () => {
  it('runs `stackl topics` with the right password (read from a file): the control case', async () => {
    const run = await stackl(['topics'], secureEnv({ STACKL_TOPIC_PREFIX: uniquePrefix('cli') }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ created: expect.arrayContaining([expect.stringMatching(/task\.requests$/)]) });
  });

  it('fails on a wrong password', async () => {
    const password = `wrong-${token()}`;
    const run = await stackl(['topics'], secureEnv({ KAFKA_SASL_PASSWORD_FILE: undefined, KAFKA_SASL_PASSWORD: password }));
    const broker = own.cluster.brokers[0] ?? '';
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`stackl: Kafka broker ${broker} refused the SASL SCRAM-SHA-256 login of user "stackl"`);
    expect(run.stderr).toMatch(/authentication failed.*invalid credentials.*\[KAFKA_AUTHENTICATION_FAILED\]\n$/);
    expect(run.stderr).not.toContain(password);
    expect(run.ms).toBeLessThan(10_000);
    process.stderr.write(`wrong password: exit ${run.code} after ${run.ms} ms\n`);
  });

  it('fails on a certificate signed by a CA the client does not trust', async () => {
    const other = createCertificateAuthority(own.home, 'untrusted', 'a CA the broker never used');
    const run = await stackl(['topics'], secureEnv({ KAFKA_SSL_CA_FILE: other.certFile }));
    const broker = own.cluster.brokers[0] ?? '';
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toBe(`stackl: Kafka broker ${broker}: TLS connection refused: unable to verify the first certificate [UNABLE_TO_VERIFY_LEAF_SIGNATURE] (check KAFKA_SSL_CA_FILE) [KAFKA_TLS_FAILED]\n`);
    expect(run.ms).toBeLessThan(10_000);
    process.stderr.write(`untrusted CA: exit ${run.code} after ${run.ms} ms\n`);
  });

  it('fails a role the same way: `stackl broker` with a wrong password exits instead of retrying', async () => {
    const run = await stackl(['broker'], secureEnv({ KAFKA_SASL_PASSWORD_FILE: undefined, KAFKA_SASL_PASSWORD: 'wrong', STACKL_TOPIC_PREFIX: uniquePrefix('role') }));
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^stackl: Kafka broker 127\.0\.0\.1:\d+ refused the SASL .*\[KAFKA_AUTHENTICATION_FAILED\]$/)]);
    expect(run.ms).toBeLessThan(10_000);
  });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The built CLI as a user runs it; killed (and the test failed) if it outlives 60 s. */
function stackl(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/api/cli/main.js', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stackl ${args.join(' ')} still ran after 60 s; stderr so far: ${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - began });
    });
  });
}

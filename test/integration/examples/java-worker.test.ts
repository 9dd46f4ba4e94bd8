// The Java worker of examples/java-worker against the real broker: built with Maven, run as
// its own process on a prefix of its own where no TypeScript worker runs, so every result
// below crossed the wire from Java (Avro single-object encoding, murmur2 partitioning, the
// pool's consumer groups). It registers its kind, java-checksum, on task.kinds; the broker
// then accepts that kind and checks payloads against the JSON Schema the worker sent.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { topicNames } from '../../../topics/names.js';
import { EventLog } from '../../support/event-log.js';
import { consumeCount, testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';

const POM = 'examples/java-worker/pom.xml';
const JAR = 'examples/java-worker/target/java-worker.jar';
const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('java-worker'), STACKL_PARTITIONS: '3' });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);
let broker: RunningLifecycleApp | undefined;
let worker: JavaProcess | undefined;

/**
 * The worker runs under `sh`, which hands it SIGTERM as soon as the shell's stdin closes: when
 * the test ends it, or when this test process dies in any way (the pipe closes with it). So
 * the JVM never outlives the run. The shell ends with the JVM, with its exit status; the
 * process group is killed outright only as a last resort.
 */
const SUPERVISED = `
exec 3<&0
java -jar "$0" "$@" </dev/null 3<&- & worker=$!
(cat <&3 >/dev/null; kill -TERM $worker 2>/dev/null) & watcher=$!
wait $worker; status=$?
kill $watcher 2>/dev/null
exit $status`;

class JavaProcess {
  /** Complete lines printed on stdout. */
  readonly stdout: string[] = [];
  readonly output: string[] = [];
  private partial = '';
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  private readonly child: ChildProcess;
  private readonly killGroup = (): void => {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };

  constructor(args: string[], env: Record<string, string>) {
    // Its own process group (detached), so the last resort can take the JVM with the shell.
    this.child = spawn('sh', ['-c', SUPERVISED, JAR, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.exited = once(this.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    this.child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (this.partial + chunk.toString()).split('\n');
      this.partial = lines.pop() ?? '';
      this.stdout.push(...lines);
      this.output.push(chunk.toString());
    });
    this.child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    process.once('exit', this.killGroup);
  }

  /** Resolves once stdout has had `line`; rejects, with the output, if the worker exits or takes longer. */
  async waitForLine(line: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let ended = false;
    void this.exited.then(() => (ended = true));
    while (!this.stdout.includes(line)) {
      if (ended || Date.now() > until) throw new Error(`the Java worker ${ended ? 'exited' : `did not print "${line}" in ${timeoutMs} ms`}:\n${this.output.join('').slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Ends stdin (the shell then sends SIGTERM); kills the group if it has not exited within `graceMs`. */
  async stop(graceMs: number): Promise<[number | null, NodeJS.Signals | null]> {
    this.child.stdin?.end();
    const timer = setTimeout(this.killGroup, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      process.off('exit', this.killGroup);
    }
  }
}

beforeAll(async () => {
  // A missing java or mvn fails here, loudly: this test is never skipped.
  await promisify(execFile)('java', ['-version']);
  await promisify(execFile)('mvn', ['-q', '-B', '-f', POM, 'package', '-DskipTests'], { timeout: 590_000, maxBuffer: 16 * 1024 * 1024 });
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  await log.start();
  worker = new JavaProcess(['--also-probe'], { STACKL_TOPIC_PREFIX: config.topicPrefix, STACKL_KAFKA_BROKERS: config.kafkaBrokers.join(',') });
  await worker.waitForLine('registered java-checksum', 60_000);
  await worker.waitForLine('ready', 60_000);
}, 600_000);

afterAll(async () => {
  await worker?.stop(15_000);
  await Promise.all([log.stop(), client.close()]);
  await broker?.stop();
}, 60_000);

const ends = (last: string) => (types: string[]) => types.at(-1) === last;
const checksum = (payload: Record<string, unknown>) => client.submit({ kind: 'java-checksum', action: 'run', payload });

describe('the Java worker (examples/java-worker)', () => {
  it('registers java-checksum on task.kinds before it takes orders', async () => {
    expect(worker?.stdout.slice(0, 2)).toEqual(['registered java-checksum', 'ready']);
    const [registration] = await consumeCount(kafka, `${config.topicPrefix}task.kinds`, 1);
    expect(registration?.message.key?.toString()).toBe('java-checksum');
    const record = JSON.parse(registration?.message.value?.toString() ?? '{}') as Record<string, unknown>;
    expect(record).toMatchObject({ format: 1, name: 'java-checksum', version: 1, pool: 'java-checksum', actions: ['run'], rollback: 'compensate', defaults: { timeoutMs: 30_000 } });
    expect(record.payloadSchemas).toEqual({
      run: { type: 'object', properties: { text: { type: 'string', maxLength: 100_000 }, fail: { type: 'boolean' } }, required: ['text'], additionalProperties: false },
    });
    expect(record.registeredBy).toMatch(/^java-/);
  });

  it('runs a task: the SHA-256 of its text, reported from Java', async () => {
    const text = 'STACKL from Java, ünïcödé included';
    const { taskId } = await checksum({ text });
    const history = await log.waitFor(taskId, ends('TaskCompleted'));
    expect(history.map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptSucceeded', 'TaskCompleted']);
    const started = history[2];
    expect(started?.type === 'AttemptStarted' && started.body.workerId).toMatch(/^java-/);
    const completed = history.at(-1);
    const output = JSON.parse(completed?.type === 'TaskCompleted' ? completed.body.output : '{}') as unknown;
    expect(output).toEqual({ sha256: createHash('sha256').update(text, 'utf8').digest('hex'), length: [...text].length });
  });

  it('fails a task for good when asked, then answers its rollback', async () => {
    // Attempts to spare: only a non-retriable failure fails the task at once.
    const { taskId } = await client.submit({ kind: 'java-checksum', action: 'run', payload: { text: 'doomed', fail: true }, maxAttempts: 3 });
    const history = await log.waitFor(taskId, ends('RollbackSucceeded'));
    expect(history.map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptFailed', 'TaskFailed', 'RollbackDispatched', 'RollbackSucceeded']);
    const failed = history.find((e) => e.type === 'AttemptFailed');
    expect(failed?.type === 'AttemptFailed' && failed.body).toMatchObject({ attempt: 1, reason: 'error', message: expect.stringContaining('failed as asked'), retryAt: null });
  });

  it('has payloads that break its registered schema refused by the broker', async () => {
    for (const payload of [{ text: 'x', extra: 1 }, { fail: true }, { text: 42 }, { text: 'y'.repeat(100_001) }]) {
      const { taskId } = await checksum(payload);
      const [rejected] = await log.waitFor(taskId, ends('TaskRejected'));
      expect(rejected?.body).toMatchObject({ code: 'INVALID_PAYLOAD' });
    }
  });

  it('serves the built-in probe as well with --also-probe', async () => {
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } });
    const completed = (await log.waitFor(taskId, ends('TaskCompleted'))).at(-1);
    expect(JSON.parse(completed?.type === 'TaskCompleted' ? completed.body.output : '{}')).toEqual({ probe: 'ok' });
  });

  it('dead-letters a record on an order topic that does not decode, and goes on', async () => {
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: topics.dispatch, acks: -1, messages: [{ key: 'not-an-order', value: Buffer.from('{"json":"is not Avro"}') }] });
    } finally {
      await producer.disconnect();
    }
    const [dead] = await consumeCount(kafka, topics.dlq, 1);
    const header = (name: string) => dead?.message.headers?.[name]?.toString();
    expect(dead?.message.value?.toString()).toBe('{"json":"is not Avro"}');
    expect([header('stackl.dlq.topic'), header('stackl.dlq.error.code'), header('stackl.dlq.app')]).toEqual([topics.dispatch, 'DECODE_UNKNOWN_FORMAT', `${config.topicPrefix}pool.java-checksum`]);
    const { taskId } = await checksum({ text: 'after the dead letter' });
    await log.waitFor(taskId, ends('TaskCompleted'));
  });

  it('stops on SIGTERM: exits 143, its pool groups left empty with every order committed', async () => {
    const [code, signal] = (await worker?.stop(15_000)) ?? [];
    expect({ code, signal }).toEqual({ code: 143, signal: null });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const lanes = [
        { groupId: `${config.topicPrefix}pool.java-checksum`, topic: topics.dispatch },
        { groupId: `${config.topicPrefix}pool.java-checksum.rollbacks`, topic: topics.rollbacks },
      ];
      const { groups } = await admin.describeGroups(lanes.map((l) => l.groupId));
      // In no particular order.
      const states = new Map(groups.map((g) => [g.groupId, [g.state, g.members.length]]));
      expect(lanes.map((l) => [l.groupId, states.get(l.groupId)])).toEqual(lanes.map((l) => [l.groupId, ['Empty', 0]]));
      for (const { groupId, topic } of lanes) {
        const offsets = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const at = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
        // Committed past its last record: that can be one short of the end, since the broker
        // writes orders in transactions, whose commit marker follows them (a partition with no
        // record has no commit).
        for (const { partition, high } of offsets) {
          if (BigInt(high) > 0n) expect(BigInt(at.get(partition) ?? '-1'), `${topic}/${partition}`).toBeGreaterThanOrEqual(BigInt(high) - 1n);
        }
      }
    } finally {
      await admin.disconnect();
    }
  });
});

// The example of examples/dns-record, run as its users run it: its own package (installed
// with npm when it is not yet), its worker a process of its own that imports 'stackl' (here
// through the stackl-source condition, so it runs the code under test without a build),
// against the real broker on a prefix of its own. Its tasks write zone files in a directory
// of the test's; every way a task can fail (a conflict, a failure after writing, a timeout,
// a cancel) must leave the zone as the task found it. Its submit script goes through the
// REST API, as the README says.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../../api/server.js';
import { loadConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { startProjector, type RunningProjector } from '../../../processors/projection/projector.js';
import type { TaskEventMessage } from '../../../schemas/index.js';
import { topicNames } from '../../../topics/names.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, uniqueSchema } from '../../support/postgres.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/dns-record/', import.meta.url));
const schema = uniqueSchema('dns_record_example');
const env = { ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('dns-record'), STACKL_PARTITIONS: '2', STACKL_DB_SCHEMA: schema };
const config = loadConfig(env);
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const events = new EventLog(kafka, topics.events);

/**
 * Loaded first in the example's processes: when their stdin closes, which it does when this
 * test process ends in any way (even SIGKILL), they get SIGTERM, and exit at most 10 s later.
 * So no worker outlives the run.
 */
const WATCHDOG = `data:text/javascript,${encodeURIComponent(
  "process.stdin.on('end', () => { process.kill(process.pid, 'SIGTERM'); setTimeout(() => process.exit(1), 10000).unref(); }); process.stdin.resume(); process.stdin.unref();",
)}`;

/** A node process of the example, run as `node --conditions=stackl-source --import tsx <script>` in its folder. */
class ExampleProcess {
  readonly stdout: string[] = [];
  /** Parsed log lines (stderr is pino's JSON lines); other stderr lines kept as text. */
  readonly logs: Record<string, unknown>[] = [];
  private readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly child: ChildProcess;
  private readonly kill = (): void => void this.child.kill('SIGKILL');

  constructor(script: string, args: string[], extraEnv: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', WATCHDOG, '--conditions=stackl-source', '--import', 'tsx', script, ...args], {
      cwd: EXAMPLE,
      env: { ...env, ...extraEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        process.off('exit', this.kill);
        resolve((this.exitCode = code));
      }),
    );
    lines(this.child.stdout, (line) => {
      this.stdout.push(line);
      this.output.push(line);
    });
    lines(this.child.stderr, (line) => {
      this.output.push(line);
      try {
        this.logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log line (a stack trace, say): kept in `output` for the failure message.
      }
    });
    process.once('exit', this.kill);
  }

  /** Resolves once stdout has a line matching `pattern`; rejects, with the output, if the process exits first or takes longer. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const line = this.stdout.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (this.exitCode !== undefined || Date.now() > until) throw new Error(`${this.exitCode !== undefined ? `exited (${this.exitCode})` : `printed no line matching ${pattern} in ${timeoutMs} ms`}:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for the exit; rejects, with the output, after `timeoutMs`. */
  async exit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms:\n${this.tail()}`)), timeoutMs)));
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs: number): Promise<number | null> {
    if (this.exitCode === undefined) this.child.kill('SIGTERM');
    const timer = setTimeout(this.kill, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      process.off('exit', this.kill);
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** The messages the handlers logged about one task, in order. */
  messagesAbout(taskId: string): string[] {
    return this.logs.filter((l) => l.taskId === taskId && l.component === 'kind').map((l) => String(l.msg));
  }

  tail(): string {
    return this.output.join('\n').slice(-6000);
  }
}

function lines(stream: NodeJS.ReadableStream | null, each: (line: string) => void): void {
  let partial = '';
  stream?.on('data', (chunk: Buffer) => {
    const split = (partial + chunk.toString()).split('\n');
    partial = split.pop() ?? '';
    split.forEach(each);
  });
}

let zoneDir: string;
let broker: RunningLifecycleApp | undefined;
let worker: ExampleProcess | undefined;
let projector: RunningProjector | undefined;
let api: RunningApi | undefined;

beforeAll(async () => {
  // The example is a package of its own, depending on this one (file:../..) and zod. npm
  // needs the registry for zod; without it this fails here, loudly.
  if (!existsSync(join(EXAMPLE, 'node_modules', 'stackl', 'package.json')) || !existsSync(join(EXAMPLE, 'node_modules', 'zod', 'package.json'))) {
    await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund'], { cwd: EXAMPLE, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`npm install in examples/dns-record failed: ${error.message}\n${error.stderr ?? ''}`);
    });
  }
  zoneDir = await mkdtemp(join(tmpdir(), 'stackl-dns-record-'));
  await migrate(config.databaseUrl, schema);
  // No `kinds`: the broker follows the registry, where the example's worker registers dns-record.
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  await events.start();
  [projector, api] = await Promise.all([startProjector(config), startApi(config, { env, options: { port: 0 } })]);
  worker = new ExampleProcess('src/worker.js', [], { DNS_ZONE_DIR: zoneDir, STACKL_SHUTDOWN_GRACE_MS: '5000' });
  await worker.waitForLine(/ready/, 90_000);
}, 420_000);

afterAll(async () => {
  await worker?.stop(5_000);
  await Promise.allSettled([client.close(), events.stop(), api?.stop(), projector?.stop()]);
  await broker?.stop();
  await dropSchema(schema);
  if (zoneDir !== undefined) await rm(zoneDir, { recursive: true, force: true });
}, 60_000);

type Payload = Record<string, unknown>;
const settled = (types: string[]): boolean => types.some((t) => ['TaskCompleted', 'TaskRejected', 'RollbackSucceeded', 'RollbackFailed'].includes(t));

async function submit(action: 'upsert' | 'remove', payload: Payload, options: { timeoutMs?: number } = {}): Promise<string> {
  const { taskId } = await client.submit({ kind: 'dns-record', action, payload, ...options });
  return taskId;
}

/** Submits, waits until the task settled, and returns its history. */
async function runTask(action: 'upsert' | 'remove', payload: Payload, options: { timeoutMs?: number } = {}): Promise<{ taskId: string; history: TaskEventMessage[]; types: string[] }> {
  const taskId = await submit(action, payload, options);
  const history = await events.waitFor(taskId, settled);
  return { taskId, history, types: history.map((e) => e.type) };
}

/** Submits and expects the task to complete; returns its output. */
async function completes(action: 'upsert' | 'remove', payload: Payload): Promise<unknown> {
  const { types, history } = await runTask(action, payload);
  expect(types, worker?.tail()).toContain('TaskCompleted');
  const completed = history.find((e) => e.type === 'TaskCompleted');
  return JSON.parse(completed?.type === 'TaskCompleted' ? completed.body.output : 'null');
}

const zoneText = (zone: string): Promise<string | undefined> => readFile(join(zoneDir, `${zone}.zone`), 'utf8').catch(() => undefined);
const backupsOf = async (taskId: string): Promise<string[]> => (await readdir(zoneDir)).filter((file) => file.includes(taskId));
const eventOf = <T extends TaskEventMessage['type']>(history: TaskEventMessage[], type: T) => history.find((e): e is Extract<TaskEventMessage, { type: T }> => e.type === type);

describe('the dns-record example (examples/dns-record)', () => {
  it('upserts a record: the zone file holds it, and the task completes with what run returned', async () => {
    const { taskId, history, types } = await runTask('upsert', { zone: 'ok.test', name: 'www', type: 'A', value: '192.0.2.10', ttl: 300 });
    expect(types, worker?.tail()).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptProgressed', 'AttemptSucceeded', 'TaskCompleted']);
    // The kind's own defaults, since the submission named none.
    expect(eventOf(history, 'TaskSubmitted')?.body.task).toMatchObject({ timeoutMs: 30_000, maxAttempts: 3 });
    expect(eventOf(history, 'AttemptProgressed')?.body).toMatchObject({ percent: 50, message: 'www A written in ok.test' });
    const output = { zone: 'ok.test', name: 'www', type: 'A', records: ['www 300 IN A 192.0.2.10'], previous: [] };
    expect(JSON.parse(eventOf(history, 'TaskCompleted')?.body.output ?? 'null')).toEqual(output);
    expect(await zoneText('ok.test')).toBe('www 300 IN A 192.0.2.10\n');
    expect(worker?.messagesAbout(taskId)).toEqual(['zone written']);
  });

  it('upserts in place, and removes a record set (an empty zone file stays)', async () => {
    await completes('upsert', { zone: 'edit.test', name: 'www', type: 'A', value: '192.0.2.1' });
    await completes('upsert', { zone: 'edit.test', name: 'mail', type: 'AAAA', value: '2001:db8::25' });
    expect(await completes('upsert', { zone: 'edit.test', name: 'www', type: 'A', value: '192.0.2.2', ttl: 60 })).toMatchObject({ records: ['www 60 IN A 192.0.2.2'], previous: ['www 3600 IN A 192.0.2.1'] });
    expect(await zoneText('edit.test')).toBe('www 60 IN A 192.0.2.2\nmail 3600 IN AAAA 2001:db8::25\n');
    expect(await completes('remove', { zone: 'edit.test', name: 'www', type: 'A' })).toEqual({ zone: 'edit.test', name: 'www', type: 'A', records: [], previous: ['www 60 IN A 192.0.2.2'] });
    expect(await completes('remove', { zone: 'edit.test', name: 'mail', type: 'AAAA' })).toMatchObject({ previous: ['mail 3600 IN AAAA 2001:db8::25'] });
    expect(await zoneText('edit.test')).toBe('');
    // Removing what is not there is no error.
    expect(await completes('remove', { zone: 'edit.test', name: 'ftp', type: 'CNAME' })).toMatchObject({ records: [], previous: [] });
  });

  it('refuses a CNAME beside other records: failed for good (no retry though 3 attempts are allowed), rolled back, the zone untouched', async () => {
    await completes('upsert', { zone: 'conflict.test', name: 'www', type: 'A', value: '192.0.2.10' });
    const before = await zoneText('conflict.test');
    const { taskId, history, types } = await runTask('upsert', { zone: 'conflict.test', name: 'www', type: 'CNAME', value: 'elsewhere.example.' });
    expect(types, worker?.tail()).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptFailed', 'TaskFailed', 'RollbackDispatched', 'RollbackSucceeded']);
    expect(eventOf(history, 'AttemptFailed')?.body).toMatchObject({ attempt: 1, reason: 'error', retryAt: null, message: expect.stringContaining('a CNAME must be the only record of its name') });
    expect(await zoneText('conflict.test')).toBe(before);
    expect(await backupsOf(taskId)).toEqual([]);
    expect(worker?.messagesAbout(taskId)).toEqual(['nothing to roll back']);
    // And the other way round: an address beside a CNAME.
    await completes('upsert', { zone: 'conflict.test', name: 'docs', type: 'CNAME', value: 'www.conflict.test.' });
    const withCname = await zoneText('conflict.test');
    const second = await runTask('upsert', { zone: 'conflict.test', name: 'docs', type: 'AAAA', value: '2001:db8::1' });
    expect(second.types).toContain('RollbackSucceeded');
    expect(await zoneText('conflict.test')).toBe(withCname);
  });

  it('a value that does not fit its type fails for good, before anything is written', async () => {
    const { taskId, history, types } = await runTask('upsert', { zone: 'bad.test', name: 'www', type: 'A', value: '2001:db8::1' });
    expect(types).toContain('RollbackSucceeded');
    expect(eventOf(history, 'AttemptFailed')?.body).toMatchObject({ retryAt: null, message: '"2001:db8::1" is not a valid A value' });
    expect(await zoneText('bad.test')).toBeUndefined();
    expect(await backupsOf(taskId)).toEqual([]);
  });

  it('a task that fails after writing is rolled back: the zone ends as before it, records in place', async () => {
    await completes('upsert', { zone: 'undo.test', name: 'www', type: 'A', value: '192.0.2.1' });
    await completes('upsert', { zone: 'undo.test', name: 'mail', type: 'A', value: '192.0.2.25' });
    const before = await zoneText('undo.test');
    expect(before).toBe('www 3600 IN A 192.0.2.1\nmail 3600 IN A 192.0.2.25\n');

    const upsert = await runTask('upsert', { zone: 'undo.test', name: 'www', type: 'A', value: '192.0.2.99', failAfterWrite: true });
    expect(upsert.types, worker?.tail()).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptProgressed', 'AttemptFailed', 'TaskFailed', 'RollbackDispatched', 'RollbackSucceeded']);
    expect(eventOf(upsert.history, 'AttemptFailed')?.body).toMatchObject({ retryAt: null, message: expect.stringContaining('failAfterWrite') });
    // It did write (its log says what), and the rollback put the record back.
    expect(worker?.logs.find((l) => l.taskId === upsert.taskId && l.msg === 'zone written')).toMatchObject({ records: ['www 3600 IN A 192.0.2.99'], previous: ['www 3600 IN A 192.0.2.1'] });
    expect(worker?.messagesAbout(upsert.taskId)).toEqual(['zone written', 'rolled back']);
    expect(await zoneText('undo.test')).toBe(before);
    expect(await backupsOf(upsert.taskId)).toEqual([]);

    const remove = await runTask('remove', { zone: 'undo.test', name: 'www', type: 'A', failAfterWrite: true });
    expect(remove.types).toContain('RollbackSucceeded');
    expect(worker?.messagesAbout(remove.taskId)).toEqual(['zone written', 'rolled back']);
    expect(await zoneText('undo.test')).toBe(before);

    // A zone the failed task created is gone again.
    const created = await runTask('upsert', { zone: 'new.test', name: 'www', type: 'A', value: '192.0.2.7', failAfterWrite: true });
    expect(created.types).toContain('RollbackSucceeded');
    expect(worker?.messagesAbout(created.taskId)).toEqual(['zone written', 'rolled back']);
    expect(await zoneText('new.test')).toBeUndefined();
    expect(await backupsOf(created.taskId)).toEqual([]);
  });

  it('a task that outlives its timeout is aborted through its signal and rolled back', async () => {
    await completes('upsert', { zone: 'slow.test', name: 'www', type: 'A', value: '192.0.2.1' });
    const before = await zoneText('slow.test');
    const { taskId, history, types } = await runTask('upsert', { zone: 'slow.test', name: 'www', type: 'A', value: '192.0.2.50', holdMs: 60_000 }, { timeoutMs: 3_000 });
    expect(types, worker?.tail()).toContain('RollbackSucceeded');
    expect(types).not.toContain('AttemptSucceeded');
    expect(eventOf(history, 'TaskFailed')?.body).toMatchObject({ reason: 'timeout' });
    expect(worker?.messagesAbout(taskId)).toEqual(['zone written', 'aborted', 'rolled back']);
    expect(await zoneText('slow.test')).toBe(before);
    expect(await backupsOf(taskId)).toEqual([]);
  });

  it('a cancel mid-run aborts the handler through its signal, then the rollback undoes its write', async () => {
    await completes('upsert', { zone: 'cancel.test', name: 'www', type: 'A', value: '192.0.2.1' });
    const before = await zoneText('cancel.test');
    const taskId = await submit('upsert', { zone: 'cancel.test', name: 'www', type: 'A', value: '192.0.2.77', holdMs: 60_000 });
    await events.waitFor(taskId, (types) => types.includes('AttemptProgressed'));
    // Mid-run: written, and holding.
    expect(await zoneText('cancel.test')).toBe('www 3600 IN A 192.0.2.77\n');
    await client.cancel(taskId);
    const history = await events.waitFor(taskId, settled);
    expect(history.map((e) => e.type)).toContain('RollbackSucceeded');
    expect(history.map((e) => e.type)).not.toContain('AttemptSucceeded');
    expect(eventOf(history, 'TaskFailed')?.body).toMatchObject({ reason: 'cancelled' });
    // The handler stopped (its sleep ended by the signal) before the rollback ran.
    expect(worker?.messagesAbout(taskId)).toEqual(['zone written', 'aborted', 'rolled back']);
    expect(worker?.logs.find((l) => l.taskId === taskId && l.msg === 'aborted')).toMatchObject({ reason: expect.stringContaining('rolling this task back') });
    expect(await zoneText('cancel.test')).toBe(before);
    expect(await backupsOf(taskId)).toEqual([]);
  });

  it('is registered with its schema, so a payload that does not fit is refused before any worker sees it', async () => {
    const listed = await api?.app.inject({ method: 'GET', url: '/kinds/dns-record' });
    expect(listed?.json()).toMatchObject({ name: 'dns-record', pool: 'dns-record', rollback: 'compensate', defaults: { timeoutMs: 30_000, maxAttempts: 3 }, actions: ['upsert', 'remove'] });
    for (const payload of [{ zone: '../etc', name: 'www', type: 'A', value: '192.0.2.1' }, { zone: 'ok.test', name: 'www', type: 'MX', value: 'mail' }, { zone: 'ok.test', name: 'www', type: 'A', value: '192.0.2.1', extra: 1 }]) {
      const { types, history } = await runTask('upsert', payload);
      expect(types).toEqual(['TaskRejected']);
      expect(eventOf(history, 'TaskRejected')?.body).toMatchObject({ code: 'INVALID_PAYLOAD' });
    }
  });

  it('its submit script submits through the REST API and follows the task to its output', async () => {
    const submitScript = new ExampleProcess('src/submit.js', [], { STACKL_API_URL: api?.address ?? '' });
    expect(await submitScript.exit(60_000), submitScript.tail()).toBe(0);
    expect(submitScript.stdout[0]).toMatch(/^submitted upsert as task [0-9a-f-]{36}$/);
    expect(submitScript.stdout.filter((line) => line === '  Completed')).toHaveLength(1);
    const last = submitScript.stdout.at(-1) ?? '';
    expect(last).toMatch(/^output: /);
    // Read back from PostgreSQL (jsonb), so its keys may come in another order.
    expect(JSON.parse(last.slice('output: '.length))).toEqual({ zone: 'example.com', name: 'www', type: 'A', records: ['www 3600 IN A 192.0.2.10'], previous: [] });
    expect(await zoneText('example.com')).toBe('www 3600 IN A 192.0.2.10\n');

    const failing = new ExampleProcess('src/submit.js', ['remove', '{"zone":"example.com","name":"www","type":"A","failAfterWrite":true}'], { STACKL_API_URL: api?.address ?? '' });
    expect(await failing.exit(60_000), failing.tail()).toBe(1);
    expect(failing.tail()).toMatch(/failed: failed after writing/);
    expect(await zoneText('example.com')).toBe('www 3600 IN A 192.0.2.10\n');
  });

  it('stops cleanly on SIGTERM', async () => {
    worker?.signal('SIGTERM');
    expect(await worker?.exit(20_000)).toBe(0);
    expect(worker?.stdout.slice(-2)).toEqual(['SIGTERM: stopping', 'stopped']);
  });
});

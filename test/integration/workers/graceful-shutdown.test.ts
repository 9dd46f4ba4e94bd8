// SIGTERM to a worker process running 200 attempts, on each channel: it stops taking
// orders, lets every attempt finish and report, then leaves. No attempt waits out its
// timeout (before, the worker aborted them all, and each task failed at its deadline),
// and the orders it did not take go to the next worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { startRelay, type Relay } from '../../../channels/start-relay.js';
import { topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { PrivateRedis } from '../../support/redis-server.js';
import { RoleProcess } from '../../support/role-process.js';

const RUNNING = 200;
const WORK_MS = 8_000;

describe.each(['kafka', 'redis', 'rabbitmq'] as const)('graceful shutdown of a worker on the %s channel', (channel) => {
  const redis = new PrivateRedis();
  const prefix = uniquePrefix(`graceful-${channel}`);
  const env = (): Record<string, string> => ({
    STACKL_TOPIC_PREFIX: prefix,
    STACKL_PARTITIONS: '3',
    STACKL_CHANNEL: channel,
    STACKL_WORKER_CONCURRENCY: String(RUNNING + 50),
    STACKL_WORKER_SESSION_TIMEOUT_MS: '6000',
    STACKL_SHUTDOWN_GRACE_MS: '30000',
    ...(channel === 'redis' ? { REDIS_URL: redis.url } : {}),
  });
  const kafka = testKafka();
  const client = new KafkaBrokerClient(kafka, topicNames(prefix).requests, 3);
  const log = new EventLog(kafka, topicNames(prefix).events);
  let config: StacklConfig;
  let stopping: RoleProcess | undefined;
  let broker: RunningLifecycleApp | undefined;
  let relay: Relay | undefined;
  let successor: Worker | undefined;

  beforeAll(async () => {
    if (channel === 'redis') await redis.start();
    config = loadConfig({ ...process.env, ...env() });
    broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    if (channel !== 'kafka') relay = await startRelay(config, undefined, env());
    await log.start();
  }, 120_000);

  afterAll(async () => {
    await stopping?.kill();
    await Promise.all([successor?.stop(), log.stop(), client.close()]);
    await relay?.stop();
    await broker?.stop();
    if (channel === 'redis') await redis.stop();
  });

  const startedBy = (taskId: string) => log.byTask.get(taskId)?.filter((e) => e.type === 'AttemptStarted').map((e) => (e.body as { workerId: string }).workerId) ?? [];
  const notYet = (ids: string[], type: string) => ids.filter((id) => !log.types(id).includes(type));

  it(`finishes the ${RUNNING} attempts it runs when stopped with SIGTERM, and leaves the orders it did not take to the next worker`, { timeout: 180_000 }, async () => {
    stopping = new RoleProcess('worker', env(), /worker ready/);
    await stopping.start();
    // One attempt each: an attempt the worker abandoned would fail its task at the deadline.
    const slow = { kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: WORK_MS }, maxAttempts: 1, timeoutMs: 45_000 } as const;
    const running = (await client.submitMany(Array.from({ length: RUNNING }, () => slow))).map((r) => r.taskId);
    await log.waitForAll(() => notYet(running, 'AttemptStarted').length === 0, 60_000, () => `${notYet(running, 'AttemptStarted').length} attempts not started`);
    const [workerId] = startedBy(running[0] ?? '');

    const signalled = Date.now();
    const exited = stopping.kill('SIGTERM');
    // Orders that arrive once the worker is stopping are no longer its to take.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const late = (await client.submitMany(Array.from({ length: 20 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } }) as const))).map((r) => r.taskId);
    expect(await exited).toEqual({ code: 0, signal: null });
    const stoppedAfterMs = Date.now() - signalled;

    await log.waitForAll(() => notYet(running, 'TaskCompleted').length === 0, 30_000, () => `${notYet(running, 'TaskCompleted').length} of ${RUNNING} tasks not completed`);
    for (const id of running) {
      expect(log.types(id).filter((t) => t === 'AttemptFailed' || t === 'TaskFailed'), id).toEqual([]);
      expect(startedBy(id), id).toEqual([workerId]);
    }
    // It waited for the work (at most WORK_MS of it was left), not for the whole 30 s grace.
    expect(stoppedAfterMs).toBeLessThan(WORK_MS + 10_000);
    expect(stopping.output.join('')).not.toMatch(/abandon/);

    successor = await startWorker(config, env());
    await log.waitForAll(() => notYet(late, 'TaskCompleted').length === 0, 60_000, () => `${notYet(late, 'TaskCompleted').length} late tasks not completed`);
    for (const id of late) expect(startedBy(id), id).toEqual([successor.workerId]);
  });
});

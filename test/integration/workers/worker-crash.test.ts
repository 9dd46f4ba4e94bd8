// kill -9 of a worker process in the middle of a task: its heartbeats stop, the
// broker times the attempt out, and another worker retries it (or rolls it back);
// nothing stays half done.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { RoleProcess } from '../../support/role-process.js';

// Workers notice a dead member after 6 s (the broker's minimum session timeout).
const env = { STACKL_TOPIC_PREFIX: uniquePrefix('worker-crash'), STACKL_PARTITIONS: '3', STACKL_WORKER_SESSION_TIMEOUT_MS: '6000' };
const config = loadConfig({ ...process.env, ...env });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);
const doomed = new RoleProcess('worker', env, /worker ready/);
let broker: RunningLifecycleApp | undefined;
let survivor: Worker | undefined;

afterAll(async () => {
  await doomed.kill();
  await Promise.all([survivor?.stop(), log.stop(), client.close()]);
  await broker?.stop();
});

describe('worker crash', () => {
  it('retries on another worker the attempt of a worker killed mid-task', { timeout: 120_000 }, async () => {
    broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    await log.start();
    await doomed.start();
    const { taskId } = await client.submit({
      kind: 'probe',
      action: 'run',
      payload: { outcome: 'succeed', durationMs: 4000 },
      heartbeatTimeoutMs: 1000,
      maxAttempts: 2,
      retryBackoff: { initialMs: 100, multiplier: 1, maxMs: 100 },
      timeoutMs: 90_000,
    });
    const started = await log.waitFor(taskId, (t) => t.includes('AttemptStarted'));
    const firstWorker = (started.find((e) => e.type === 'AttemptStarted')?.body as { workerId: string }).workerId;
    await doomed.kill('SIGKILL');
    survivor = await startWorker(config, { ...env });

    const history = await log.waitFor(taskId, (t) => t.includes('TaskCompleted') || t.includes('RollbackSucceeded'), 90_000);
    const failed = history.find((e) => e.type === 'AttemptFailed');
    expect(failed?.body).toMatchObject({ attempt: 1, reason: 'timeout' });
    const completed = history.find((e) => e.type === 'TaskCompleted');
    expect(completed, history.map((e) => e.type).join(',')).toBeDefined();
    const secondStart = history.filter((e) => e.type === 'AttemptStarted').map((e) => e.body as { attempt: number; workerId: string }).find((b) => b.attempt === 2);
    expect(secondStart?.workerId).toBe(survivor.workerId);
    expect(secondStart?.workerId).not.toBe(firstWorker);
  });
});

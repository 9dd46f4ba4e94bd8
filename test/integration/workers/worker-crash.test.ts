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

// The heartbeat timeout also bounds how late the broker may record the surviving worker's
// heartbeats. At 1 s this case failed when the full suite loaded the machine: the survivor
// sent attempt 2's heartbeats every 333 ms, each acknowledged by Kafka within 200 ms, but
// the broker (on the same loaded Kafka) recorded them up to 1.2 s later, and its wall-clock
// tick timed attempt 2 out as well (no attempt left: the task failed and rolled back). At
// 5 s (heartbeats every 1.7 s) the broker may lag more than 3 s.
const HEARTBEAT_TIMEOUT_MS = 5_000;

/** The history, with bodies, to say what happened when an expectation fails. */
function told(history: readonly { type: string; body: unknown }[]): string {
  return history.map((e) => `${e.type} ${JSON.stringify(e.body)}`).join('\n');
}

describe('worker crash', () => {
  it('retries on another worker the attempt of a worker killed mid-task', { timeout: 120_000 }, async () => {
    broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    await log.start();
    await doomed.start();
    const { taskId } = await client.submit({
      kind: 'probe',
      action: 'run',
      payload: { outcome: 'succeed', durationMs: 4000 },
      heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
      maxAttempts: 2,
      retryBackoff: { initialMs: 100, multiplier: 1, maxMs: 100 },
      timeoutMs: 90_000,
    });
    const started = await log.waitFor(taskId, (t) => t.includes('AttemptStarted'));
    const firstWorker = (started.find((e) => e.type === 'AttemptStarted')?.body as { workerId: string }).workerId;
    await doomed.kill('SIGKILL');
    // The survivor starts once the dead worker's attempt timed out: the group hands it that
    // attempt's order again (it was never committed), and taken before the timeout it would
    // run attempt 1 itself, heartbeating it alive, instead of the retry this case is about.
    const timedOut = await log.waitFor(taskId, (t) => t.includes('AttemptFailed'), 60_000);
    expect(timedOut.find((e) => e.type === 'AttemptFailed')?.body, told(timedOut)).toMatchObject({ attempt: 1, reason: 'timeout' });
    survivor = await startWorker(config, { ...env });
    const survivorId = survivor.workerId;

    const history = await log.waitFor(taskId, (t) => t.includes('TaskCompleted') || t.includes('RollbackSucceeded'), 90_000);
    expect(history.find((e) => e.type === 'TaskCompleted'), told(history)).toBeDefined();
    const secondStart = history.filter((e) => e.type === 'AttemptStarted').map((e) => e.body as { attempt: number; workerId: string }).find((b) => b.attempt === 2);
    expect(secondStart?.workerId).toBe(survivorId);
    expect(secondStart?.workerId).not.toBe(firstWorker);

    // Completed exactly once, by the retry: once the survivor settled what it took (the
    // order of attempt 1 comes to it again too, and runs fenced), and the broker had time
    // to read its last results, one attempt failed (the dead one's), one succeeded
    // (attempt 2), one completion, and nothing failed the task or rolled it back.
    await expect.poll(() => survivor?.stats().inFlight, { timeout: 30_000 }).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const final = log.byTask.get(taskId) ?? [];
    const of = (type: string) => final.filter((e) => e.type === type);
    expect(of('AttemptFailed').map((e) => e.body), told(final)).toMatchObject([{ attempt: 1, reason: 'timeout' }]);
    expect(of('AttemptSucceeded').map((e) => e.body), told(final)).toMatchObject([{ attempt: 2 }]);
    expect(of('TaskCompleted'), told(final)).toHaveLength(1);
    expect(final.filter((e) => e.type === 'TaskFailed' || e.type.startsWith('Rollback')), told(final)).toEqual([]);
  });
});

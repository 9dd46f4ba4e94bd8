// The projector behind the real `kafka` broker (lifecycle processor + scripted worker):
// whatever the broker writes to task.events lands in task_events, in log order, and the
// rows end where the lifecycle ends; a replay of the same log gives the same rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { compareProjections, replayProjection, startProjector, type RunningProjector } from '../../../processors/projection/index.js';
import type { TaskSpec } from '../../../schemas/index.js';
import { topicNames } from '../../../topics/names.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { probeScript, ScriptedWorker, type WorkerScript } from '../../support/probe-worker.js';
import { ProjectionDb } from './db.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('projflow'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: uniqueSchema('projflow') });
const replaySchema = uniqueSchema('projflow_replay');
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const log = new EventLog(kafka, topics.events);
const db = new ProjectionDb(config.databaseSchema);
const overrides = new Map<string, Partial<WorkerScript>>();
const worker = new ScriptedWorker(kafka, topics, {
  attempt: (task: TaskSpec, n: number) => overrides.get(task.id)?.attempt?.(task, n) ?? probeScript.attempt(task, n),
  rollback: (task: TaskSpec, n: number) => overrides.get(task.id)?.rollback?.(task, n) ?? probeScript.rollback(task, n),
});
let broker: RunningLifecycleApp;
let projector: RunningProjector;

beforeAll(async () => {
  // A short grace: finished tasks leave the broker's state (TaskExpunged) within the test.
  // No idempotency window: a key submitted again after expunge starts a second life of its
  // task, which the projection must show as such.
  broker = await startLifecycleApp(config, { tickIntervalMs: 20, idempotencyWindowMs: 0, defaults: { expungeGraceMs: 300, rollbackBackoff: { initialMs: 50, multiplier: 1, maxMs: 50 } } });
  projector = await startProjector(config, { clientId: 'projflow-test' });
  await Promise.all([worker.start(), log.start()]);
});
afterAll(async () => {
  await Promise.all([worker.stop(), log.stop(), client.close()]);
  await projector?.stop();
  await broker?.stop();
  await db.close();
  await dropSchema(config.databaseSchema);
  await dropSchema(replaySchema);
});

const probe = (outcome: 'succeed' | 'fail' | 'hang', rollback: 'succeed' | 'fail' = 'succeed') => ({ kind: 'probe', action: 'run', payload: { outcome, rollback } });
const ends = (last: string, times = 1) => (types: string[]) => types.filter((t) => t === last).length >= times && types[types.length - 1] === last;

describe('projector behind the kafka broker', () => {
  it('projects every lifecycle the broker writes, in log order, and a replay agrees row for row', { timeout: 120_000 }, async () => {
    const completed = await client.submit(probe('succeed'));
    const failed = await client.submit(probe('fail'));
    const retried = await client.submit({ ...probe('succeed'), idempotencyKey: `retry-${config.topicPrefix}`, maxAttempts: 2, retryBackoff: { initialMs: 50, multiplier: 1, maxMs: 50 } });
    overrides.set(retried.taskId, { attempt: (_t, n) => (n === 1 ? 'fail-retriable' : 'succeed') });
    const operator = await client.submit({ ...probe('fail', 'fail'), rollbackMaxAttempts: 2 });
    const rejected = await client.submit({ kind: 'teleport', action: 'run', payload: {} });
    const cancelled = await client.submit({ ...probe('hang'), timeoutMs: 60_000 });
    const again = `again-${config.topicPrefix}`;
    const first = await client.submit({ ...probe('succeed'), idempotencyKey: again });

    await log.waitFor(cancelled.taskId, (t) => t.includes('AttemptStarted'));
    await worker.report(cancelled.taskId, { type: 'AttemptProgress', body: { attempt: 1, workerId: worker.workerId, percent: 30, message: 'working' } });
    await log.waitFor(cancelled.taskId, (t) => t.includes('AttemptProgressed'));
    await client.cancel(cancelled.taskId, { reason: 'test' });
    await log.waitFor(operator.taskId, (t) => t.filter((x) => x === 'RollbackFailed').length === 2);
    overrides.set(operator.taskId, { rollback: () => 'succeed' });
    await client.retryRollback(operator.taskId, { requestedBy: 'operator' });
    await log.waitFor(completed.taskId, ends('TaskExpunged'));
    await client.cancel(completed.taskId);
    await log.waitFor(first.taskId, ends('TaskExpunged'));
    await client.submit({ ...probe('succeed'), idempotencyKey: again });

    const all = [completed, failed, retried, operator, rejected, cancelled].map((r) => r.taskId);
    for (const id of all) await log.waitFor(id, (t) => t.includes('TaskExpunged') && t[t.length - 1] !== 'TaskSubmitted', 30_000);
    await log.waitFor(first.taskId, ends('TaskExpunged', 2), 30_000);
    await waitUntilCaughtUp();

    for (const id of [...all, first.taskId]) {
      const history = log.byTask.get(id) ?? [];
      expect((await db.events(id)).map((e) => e.event_id), id).toEqual(history.map((e) => e.eventId));
    }
    const row = async (id: string) => db.task(id);
    expect(await row(completed.taskId)).toMatchObject({ status: 'Completed', output: { attempt: 1 }, attempts: 1 });
    expect(await row(failed.taskId)).toMatchObject({ status: 'Failed', failure_reason: 'error', rollback: 'done', rollback_attempts: 1 });
    expect(await row(retried.taskId)).toMatchObject({ status: 'Completed', attempts: 2, attempt_error: 'scripted failure of attempt 1', retry_at: null });
    expect(await row(operator.taskId)).toMatchObject({ status: 'Failed', rollback: 'done', rollback_attempts: 3, rollback_error: 'scripted rollback failure 2' });
    expect(await row(rejected.taskId)).toMatchObject({ status: 'Rejected', rejection_code: 'UNKNOWN_KIND', kind: null });
    expect(await row(cancelled.taskId)).toMatchObject({ status: 'Failed', failure_reason: 'cancelled', progress_percent: 30, progress_message: 'working', rollback: 'done' });
    expect((await db.events(completed.taskId)).map((e) => e.type)).toContain('CommandRejected');
    const lives = (await db.events(first.taskId)).filter((e) => e.type === 'TaskSubmitted').map((e) => Number(e.sequence));
    expect(lives).toEqual([1, 1]);
    expect(await row(first.taskId)).toMatchObject({ status: 'Completed', last_sequence: String((log.byTask.get(first.taskId) ?? []).at(-1)?.sequence) });

    const replay = await replayProjection({ config, schema: replaySchema });
    expect(replay.events).toBe(log.all.length);
    expect(await compareProjections(testDatabaseUrl(), config.databaseSchema, replaySchema)).toEqual([]);
  });
});

async function waitUntilCaughtUp(): Promise<void> {
  const until = Date.now() + 30_000;
  while ((await projector.lag()).total > 0 || (await db.count('task_events')) < log.all.length) {
    if (Date.now() > until) throw new Error(`projection behind: ${JSON.stringify(await projector.lag())}, ${await db.count('task_events')}/${log.all.length} events`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

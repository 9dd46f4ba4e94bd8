// The projector on the real Kafka and PostgreSQL, fed with task events written exactly
// as the lifecycle processor writes them (keyed, transactional), one step at a time,
// so every event type's effect on the row can be checked on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { startProjector, type RunningProjector } from '../../../processors/projection/index.js';
import type { TaskEventMessage } from '../../../schemas/index.js';
import { topicNames } from '../../../topics/names.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, uniqueSchema } from '../../support/postgres.js';
import { ProjectionDb } from './db.js';
import { endsOf, EventWriter, spec, TaskLife } from './event-writer.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('projmap'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: uniqueSchema('projmap') });
const topics = topicNames(config.topicPrefix);
const writer = new EventWriter(testKafka(), topics.events, config.partitions);
const db = new ProjectionDb(config.databaseSchema);
let projector: RunningProjector;

beforeAll(async () => {
  projector = await startProjector(config, { clientId: 'projmap-test' });
  await writer.connect();
});
afterAll(async () => {
  await projector?.stop();
  await writer.disconnect();
  await db.close();
  await dropSchema(config.databaseSchema);
});

/** Writes the events in one transaction and waits until the projection holds them. */
async function project(...events: TaskEventMessage[]) {
  const written = await writer.write(events);
  for (const [partition, end] of endsOf(written)) expect(await projector.waitFor(partition, end, 20_000)).toBe(true);
  return written;
}

describe('projector: each event type and the row it moves', () => {
  it('follows a task through retries, failure, a rollback given up and retried, and its expunge', async () => {
    const life = new TaskLife();
    const id = life.taskId;
    const step = async (event: TaskEventMessage, expected: Record<string, unknown>) => {
      const [w] = await project(event);
      const row = await db.task(id);
      expect(row, event.type).toMatchObject({ ...expected, last_sequence: String(event.sequence), last_partition: w?.partition, last_offset: String(w?.offset) });
      return row;
    };
    const submitted = life.next('TaskSubmitted', { task: spec(id, { payload: '{"outcome":"fail","n":12345678901234567890}' }), deadlineAt: 1_750_000_060_000 });
    await step(submitted, {
      status: 'Available', kind: 'probe', action: 'run', payload: expect.objectContaining({ outcome: 'fail' }), origin_type: 'topic', origin_target: 'replies',
      idempotency_key: id, max_attempts: 2, attempts: 0, rollback: null, deadline_ms: 1_750_000_060_000, created_ms: submitted.time, updated_ms: submitted.time,
    });
    // The payload reaches jsonb digit for digit (no detour through a JavaScript number).
    expect(await db.query('select payload::text as p from $schema.tasks where id = $1', [id])).toEqual([{ p: '{"n": 12345678901234567890, "outcome": "fail"}' }]);
    await step(life.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 }), { status: 'Available', attempts: 1 });
    await step(life.next('AttemptStarted', { attempt: 1, workerId: 'w-1', heartbeatDeadlineAt: null }), { status: 'InProgress', worker_id: 'w-1' });
    await step(life.next('AttemptProgressed', { attempt: 1, percent: 40, message: 'copying' }), { status: 'InProgress', progress_percent: 40, progress_message: 'copying' });
    const retried = life.next('AttemptFailed', { attempt: 1, reason: 'error', message: 'disk full', retryAt: 1_750_000_020_000 });
    await step(retried, { status: 'Available', attempt_error: 'disk full', retry_ms: 1_750_000_020_000, updated_ms: retried.time });
    await step(life.next('AttemptDispatched', { attempt: 2, deadlineAt: 1_750_000_040_000 }), { attempts: 2, retry_at: null, worker_id: null, progress_percent: null, progress_message: null });
    await step(life.next('AttemptStarted', { attempt: 2, workerId: 'w-2', heartbeatDeadlineAt: 1_750_000_050_000 }), { status: 'InProgress', worker_id: 'w-2' });
    await step(life.next('AttemptFailed', { attempt: 2, reason: 'error', message: 'disk still full', retryAt: null }), { status: 'InProgress', attempt_error: 'disk still full', retry_at: null });
    await step(life.next('TaskFailed', { reason: 'error', message: 'disk still full' }), { status: 'Failed', failure_reason: 'error', failure_message: 'disk still full', rollback: 'pending' });
    await step(life.next('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: 1_750_000_070_000 }), { rollback: 'running', rollback_attempts: 1 });
    await step(life.next('RollbackFailed', { rollbackAttempt: 1, message: 'agent down', retryAt: 1_750_000_080_000 }), { rollback: 'pending', rollback_error: 'agent down' });
    await step(life.next('RollbackDispatched', { rollbackAttempt: 2, deadlineAt: 1_750_000_090_000 }), { rollback: 'running', rollback_attempts: 2 });
    const gaveUp = await step(life.next('RollbackFailed', { rollbackAttempt: 2, message: 'agent still down', retryAt: null }), { rollback: 'failed', rollback_error: 'agent still down' });
    // History only: the rollback shows as failed until the retry is dispatched.
    await step(life.next('RollbackRetryRequested', { requestedBy: 'operator' }), { rollback: 'failed', updated_ms: gaveUp?.updated_ms });
    await step(life.next('RollbackDispatched', { rollbackAttempt: 3, deadlineAt: 1_750_000_100_000 }), { rollback: 'running', rollback_attempts: 3 });
    const done = await step(life.next('RollbackSucceeded', { rollbackAttempt: 3 }), { status: 'Failed', rollback: 'done' });
    await step(life.next('CommandRejected', { command: 'CancelTask', code: 'TASK_FINISHED', message: 'already finished' }), { rollback: 'done', updated_ms: done?.updated_ms });
    await step(life.next('TaskExpunged', {}), { status: 'Failed', rollback: 'done', updated_ms: done?.updated_ms });

    const history = await db.events(id);
    expect(history.map((e) => e.type)).toEqual([
      'TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptProgressed', 'AttemptFailed', 'AttemptDispatched', 'AttemptStarted', 'AttemptFailed', 'TaskFailed',
      'RollbackDispatched', 'RollbackFailed', 'RollbackDispatched', 'RollbackFailed', 'RollbackRetryRequested', 'RollbackDispatched', 'RollbackSucceeded', 'CommandRejected', 'TaskExpunged',
    ]);
    expect(history.map((e) => Number(e.sequence))).toEqual(history.map((_, i) => i + 1));
    expect(history[5]).toMatchObject({ attempt: 2, rollback_attempt: null, body: { attempt: 2, deadlineAt: 1_750_000_040_000 }, correlation_id: `c-${id}` });
    expect(history[14]).toMatchObject({ attempt: null, rollback_attempt: 3 });
    expect(history[0]?.event_id).toBe(submitted.eventId);
  });

  it('completes a task: the output lands with TaskCompleted, not with AttemptSucceeded', async () => {
    const life = new TaskLife();
    await project(
      life.next('TaskSubmitted', { task: spec(life.taskId, { origin: { type: 'none', target: null } }), deadlineAt: 1_750_000_060_000 }),
      life.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 }),
      life.next('AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }),
    );
    await project(life.next('AttemptSucceeded', { attempt: 1, output: '{"doc":1}' }));
    expect(await db.task(life.taskId)).toMatchObject({ status: 'InProgress', output: null, origin_type: 'none', origin_target: null });
    const completed = life.next('TaskCompleted', { output: '{"doc":1}' });
    await project(completed);
    expect(await db.task(life.taskId)).toMatchObject({ status: 'Completed', output: { doc: 1 }, last_sequence: '5', updated_ms: completed.time });
  });

  it('records a rejected submission as a row of its own, and a command about no task as history only', async () => {
    const rejected = new TaskLife();
    await project(rejected.next('TaskRejected', { code: 'UNKNOWN_KIND', message: 'no kind "teleport"' }));
    expect(await db.task(rejected.taskId)).toMatchObject({
      status: 'Rejected', rejection_code: 'UNKNOWN_KIND', rejection_message: 'no kind "teleport"', kind: null, action: null, payload: null, origin_type: null, idempotency_key: null, attempts: 0,
    });
    const nobody = new TaskLife();
    const orphan = { ...nobody.next('CommandRejected', { command: 'CancelTask', code: 'TASK_NOT_FOUND', message: 'no such task' }), sequence: 0 } as TaskEventMessage;
    await project(orphan);
    expect(await db.task(nobody.taskId)).toBeUndefined();
    expect((await db.events(nobody.taskId)).map((e) => [e.type, e.sequence])).toEqual([['CommandRejected', '0']]);
  });

  it('starts a new life when an expunged task is submitted again with the same id (its sequence restarts at 1)', async () => {
    const life = new TaskLife();
    await project(
      life.next('TaskSubmitted', { task: spec(life.taskId), deadlineAt: 1_750_000_060_000 }),
      life.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 }),
      life.next('AttemptSucceeded', { attempt: 1, output: '{"first":true}' }),
      life.next('TaskCompleted', { output: '{"first":true}' }),
      life.next('TaskExpunged', {}),
    );
    const again = life.next('TaskSubmitted', { task: spec(life.taskId, { payload: '{"outcome":"hang"}' }), deadlineAt: 1_750_000_090_000 });
    await project(again);
    expect(await db.task(life.taskId)).toMatchObject({ status: 'Available', attempts: 0, output: null, payload: { outcome: 'hang' }, created_ms: again.time, last_sequence: '1' });
    // Both lives in the history, the second numbered from 1 again; and in one batch too.
    await project(life.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_095_000 }), life.next('TaskFailed', { reason: 'cancelled', message: 'stop' }));
    expect((await db.events(life.taskId)).map((e) => Number(e.sequence))).toEqual([1, 2, 3, 4, 5, 1, 2, 3]);
    expect(await db.task(life.taskId)).toMatchObject({ status: 'Failed', failure_reason: 'cancelled', attempts: 1, last_sequence: '3' });
  });

  it('writes odd values instead of stopping the partition: NUL, lone surrogates, output that is not JSON, far-off times', async () => {
    const life = new TaskLife();
    await project(
      life.next('TaskSubmitted', { task: spec(life.taskId, { payload: '{"nul":"a\\u0000b","lone":"\\ud800"}' }), deadlineAt: 8_000_000_000_000_000 }),
      life.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 }),
      life.next('AttemptStarted', { attempt: 1, workerId: 'w\0orker', heartbeatDeadlineAt: null }),
      life.next('TaskCompleted', { output: 'plain text, not JSON' }),
    );
    expect(await db.task(life.taskId)).toMatchObject({
      status: 'Completed', payload: { nul: 'a\uFFFDb', lone: '\uFFFD' }, output: 'plain text, not JSON', worker_id: 'w\uFFFDorker', deadline_ms: 253_402_300_799_999,
    });
  });
});

// kill -9 of a broker process in the middle of a stream of 2,000 tasks: after a
// restart every task reaches exactly one terminal outcome, no event is written twice
// (read committed), and tasks whose deadline passed while the broker was down time
// out after the restart.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import type { SubmitRequest } from '../../../processors/broker/task-broker.js';
import { topicNames } from '../../../topics/names.js';
import { EventLog } from '../../support/event-log.js';
import { outcomeOf } from '../../support/consistency.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { ScriptedWorker } from '../../support/probe-worker.js';
import { RoleProcess } from '../../support/role-process.js';

const env = { STACKL_TOPIC_PREFIX: uniquePrefix('crash'), STACKL_PARTITIONS: '3' };
const config = loadConfig({ ...process.env, ...env });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const worker = new ScriptedWorker(kafka, topics);
const log = new EventLog(kafka, topics.events);
const broker = new RoleProcess('broker', env, /broker ready/);

afterAll(async () => {
  await broker.kill();
  await Promise.all([worker.stop(), log.stop(), client.close()]);
});

const TOTAL = 2000;
const terminal = (types: string[]) => types.filter((t) => t === 'TaskCompleted' || t === 'RollbackSucceeded').length;

/**
 * One end per task: a single TaskCompleted and no rollback, or rollback attempts that each
 * succeeded once and a rolled-back end. A second rollback is by design when a start that
 * the worker reported before the kill is read after the restarted broker timed the task
 * out (it may have changed things after the first rollback), so it is not a duplicate.
 */
function endsOnce(history: readonly { type: string; body?: unknown }[]): boolean {
  const completed = history.filter((e) => e.type === 'TaskCompleted').length;
  const rolledBack = history.filter((e) => e.type === 'RollbackSucceeded').map((e) => (e.body as { rollbackAttempt: number }).rollbackAttempt);
  if (completed > 0) return completed === 1 && rolledBack.length === 0;
  return rolledBack.length > 0 && new Set(rolledBack).size === rolledBack.length && outcomeOf(history) === 'rolled-back';
}

describe('broker crash', () => {
  it('loses nothing and duplicates nothing across kill -9 and restart', { timeout: 240_000 }, async () => {
    await broker.start();
    await worker.start();
    await log.start();

    // 1 in 10 tasks hangs and must time out; the rest succeed.
    const request = (i: number): SubmitRequest => ({ kind: 'probe', action: 'run', payload: { outcome: i % 10 === 0 ? 'hang' : 'succeed' }, timeoutMs: i % 10 === 0 ? 3000 : 120_000 });
    const ids: string[] = [];
    for (let i = 0; i < TOTAL / 2; i += 100) ids.push(...(await client.submitMany(Array.from({ length: 100 }, (_, j) => request(i + j)))).map((r) => r.taskId));
    await log.waitForAll(() => [...log.byTask.values()].filter((h) => h.some((e) => e.type === 'TaskCompleted')).length >= 200, 60_000, () => `${log.all.length} events`);

    // Tasks whose deadline falls while the broker is down.
    const doomed = (await client.submitMany(Array.from({ length: 50 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'hang' }, timeoutMs: 1500 })))).map((r) => r.taskId);
    await broker.kill('SIGKILL');
    const killedAt = Date.now();
    for (let i = TOTAL / 2; i < TOTAL; i += 100) ids.push(...(await client.submitMany(Array.from({ length: 100 }, (_, j) => request(i + j)))).map((r) => r.taskId));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await broker.start();
    const restartedAt = Date.now();

    const everyone = [...ids, ...doomed];
    await log.waitForAll(
      () => everyone.every((id) => terminal(log.types(id)) >= 1),
      150_000,
      () => `${everyone.filter((id) => terminal(log.types(id)) === 0).length} tasks not finished`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));

    for (const id of everyone) {
      const history = log.byTask.get(id) ?? [];
      expect(endsOnce(history), `task ${id}: ${history.map((e) => e.type).join(',')}`).toBe(true);
      // Sequence numbers 1..n without gaps or repeats: no event was written twice or lost.
      expect(history.map((e) => e.sequence)).toEqual(history.map((_, i) => i + 1));
    }
    expect(new Set(log.all.map((e) => e.eventId)).size).toBe(log.all.length);
    for (const id of doomed) {
      const failed = log.byTask.get(id)?.find((e) => e.type === 'TaskFailed');
      expect(failed?.body).toMatchObject({ reason: 'timeout' });
      expect(failed?.time ?? 0).toBeGreaterThanOrEqual(killedAt);
      expect(failed?.time ?? 0).toBeGreaterThanOrEqual(restartedAt - 100);
    }
  });
});

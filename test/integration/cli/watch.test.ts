// `stackl watch` against the real pipeline (broker, worker, projector, PostgreSQL): it
// prints each event once, in order, as the projection gets it, and ends with the task's
// outcome: exit 0 for a completed task, 1 for a failed one, for one still running at
// its timeout, and for an id the projection never saw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../api/cli/cli-io.js';
import { watchCommand } from '../../../api/cli/watch-command.js';
import { loadConfig } from '../../../core/config.js';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { startProjector, type RunningProjector } from '../../../processors/projection/projector.js';
import { topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, uniqueSchema } from '../../support/postgres.js';

const schema = uniqueSchema('watch');
const env = { STACKL_TOPIC_PREFIX: uniquePrefix('watch'), STACKL_PARTITIONS: '2', STACKL_DB_SCHEMA: schema };
const config = loadConfig({ ...process.env, ...env });
const client = new KafkaBrokerClient(testKafka(), topicNames(config.topicPrefix).requests, config.partitions);
let broker: RunningLifecycleApp;
let worker: Worker;
let projector: RunningProjector;

beforeAll(async () => {
  broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
  worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: '4' });
  projector = await startProjector(config);
}, 60_000);

afterAll(async () => {
  await Promise.all([worker.stop(), client.close()]);
  await broker.stop();
  await projector.stop();
  await dropSchema(schema);
});

async function watch(...args: string[]): Promise<{ code: number; lines: Record<string, unknown>[]; errors: string[] }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const io: CliIo = { env: { ...process.env, ...env }, out: (t) => lines.push(t), err: (t) => errors.push(t) };
  const code = await watchCommand(io).run([...args, '--interval-ms', '50']);
  return { code, lines: lines.map((l) => JSON.parse(l) as Record<string, unknown>), errors };
}

describe('stackl watch', () => {
  it('prints every event once, in order, then the outcome; exit 0 for a completed task', async () => {
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 1_500 } });
    // Started before the projection has the task: it waits for it.
    const { code, lines } = await watch(taskId, '--timeout-ms', '30000');
    expect(code).toBe(0);
    const events = lines.slice(0, -1);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['TaskSubmitted', 'AttemptDispatched', 'AttemptSucceeded', 'TaskCompleted']));
    expect(events.at(-1)?.type).toBe('TaskCompleted');
    expect(lines.at(-1)).toMatchObject({ settled: 'Completed', rollback: null, attempts: 1, output: { probe: 'ok' } });
  }, 60_000);

  it('exits 1 once a failed task is rolled back', async () => {
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'fail' } });
    const { code, lines } = await watch(taskId, '--timeout-ms', '30000');
    expect(code).toBe(1);
    expect(lines.at(-1)).toMatchObject({ settled: 'Failed', rollback: 'done', failure: { reason: expect.any(String) } });
    expect(lines.slice(0, -1).map((e) => e.type)).toContain('RollbackSucceeded');
  }, 60_000);

  it('exits 1 for a task still running at the timeout, and for an id the projection never saw', async () => {
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'hang' }, timeoutMs: 60_000 });
    const running = await watch(taskId, '--timeout-ms', '2000');
    expect(running.code).toBe(1);
    expect(running.errors.join('')).toMatch(/is still (Available|InProgress) after 2000 ms/);
    expect(running.lines.map((e) => e.type)).toContain('TaskSubmitted');
    const unknown = await watch(uuidV7(), '--timeout-ms', '300');
    expect([unknown.code, unknown.errors.join('')]).toEqual([1, expect.stringMatching(/is not in the projection after 300 ms/)]);
    await client.cancel(taskId);
  }, 60_000);
});

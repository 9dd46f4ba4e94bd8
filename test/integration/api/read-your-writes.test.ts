// Read-your-writes on the whole pipeline: the real lifecycle processor and projector
// behind the API. A GET with the submit's position waits for the projection, answers
// 504 PROJECTION_BEHIND while it cannot catch up, and 404 only for a task that does
// not exist. The CLI's status, submit and audit run against the same pipeline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../api/cli/cli-io.js';
import { apiCommands } from '../../../api/cli/api-commands.js';
import { auditCommand } from '../../../api/cli/audit-command.js';
import { listCommand } from '../../../api/cli/list-command.js';
import { statusCommand } from '../../../api/cli/status-command.js';
import { submitCommand } from '../../../api/cli/submit-command.js';
import { uuidV7 } from '../../../processors/broker/ids.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import { startProjector, type RunningProjector } from '../../../processors/projection/projector.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { startHarness, type ApiHarness } from './harness.js';

let h: ApiHarness;
let broker: RunningLifecycleApp;
let projector: RunningProjector | undefined;
beforeAll(async () => {
  h = await startHarness('ryw');
  broker = await startLifecycleApp(h.config, { tickIntervalMs: 100 });
});
afterAll(async () => {
  await projector?.stop();
  await broker?.stop();
  await h?.close();
});

const submit = async (payload: unknown = { outcome: 'hang' }) => {
  const res = await h.app.inject({ method: 'POST', url: '/tasks', payload: { kind: 'probe', action: 'run', payload } });
  expect(res.statusCode).toBe(202);
  return res.json<{ id: string; position: string }>();
};
const read = (id: string, query: string) => h.app.inject({ method: 'GET', url: `/tasks/${id}?${query}` });
const capture = (): CliIo & { lines: string[]; errors: string[] } => {
  const lines: string[] = [];
  const errors: string[] = [];
  return { env: { ...process.env, STACKL_TOPIC_PREFIX: h.config.topicPrefix, STACKL_PARTITIONS: String(h.config.partitions), STACKL_DB_SCHEMA: h.config.databaseSchema }, out: (t) => lines.push(t), err: (t) => errors.push(t), lines, errors };
};

describe('GET /tasks/:id?minPosition=', () => {
  it('answers 504 PROJECTION_BEHIND while the projection has not seen the submit', async () => {
    const { id, position } = await submit();
    const res = await read(id, `minPosition=${position}&waitMs=800`);
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({ code: 'PROJECTION_BEHIND', stage: 'projection', retriable: true });
  });

  it('waits for the projection, then serves the task; a 404 then means no such task', async () => {
    projector = await startProjector(h.config);
    const { id, position } = await submit();
    const res = await read(id, `minPosition=${position}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id, kind: 'probe', status: 'Available', attempts: 1, payload: { outcome: 'hang' } });

    const partition = partitionForKey(id, h.config.partitions);
    let stranger = uuidV7();
    while (partitionForKey(stranger, h.config.partitions) !== partition) stranger = uuidV7();
    const missing = await read(stranger, `minPosition=${position}`);
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'TASK_NOT_FOUND']);
    const elsewhere = await read(id, `minPosition=${1 - partition}:0`);
    expect([elsewhere.statusCode, elsewhere.json().code]).toEqual([400, 'POSITION_MISMATCH']);
  });

  it('reads the effect of a cancel at its own position, with the history in order', async () => {
    const { id } = await submit();
    const cancel = await h.app.inject({ method: 'POST', url: `/tasks/${id}/cancel`, payload: { reason: 'test' } });
    const res = await read(id, `minPosition=${cancel.json().position}`);
    expect(res.json()).toMatchObject({ status: 'Failed', failure: { reason: 'cancelled' } });
    const events = await h.app.inject({ method: 'GET', url: `/tasks/${id}/events` });
    const types = events.json().items.map((e: { type: string }) => e.type);
    expect(types.slice(0, 3)).toEqual(['TaskSubmitted', 'AttemptDispatched', 'TaskFailed']);
  });
});

describe('CLI', () => {
  it('submit prints id and position; status waits for it; audit reads the history from Kafka', async () => {
    const io = capture();
    expect(await submitCommand(io).run(['--kind', 'probe', '--action', 'run', '--payload', '{"outcome":"hang"}', '--timeout-ms', '60000'])).toBe(0);
    const { id, position } = JSON.parse(io.lines.join('\n')) as { id: string; position: string };
    const status = capture();
    expect(await statusCommand(status).run([id, '--position', position])).toBe(0);
    expect(JSON.parse(status.lines.join('\n'))).toMatchObject({ id, status: 'Available' });
    const audit = capture();
    expect(await auditCommand(audit).run([id])).toBe(0);
    const history = audit.lines.map((l) => JSON.parse(l) as { type: string; sequence: number; time: string; body: unknown });
    expect(history.map((e) => [e.sequence, e.type])).toEqual([[1, 'TaskSubmitted'], [2, 'AttemptDispatched']]);
    expect(history[0]).toMatchObject({ body: { task: { id, kind: 'probe', timeoutMs: 60000 } } });
  });

  it('refuses bad flags with the usage (exit 2) and unknown kinds (exit 1)', async () => {
    const io = capture();
    expect(await submitCommand(io).run(['--kind', 'probe', '--colour', 'red'])).toBe(2);
    expect(io.errors.join('\n')).toMatch(/Unknown option '--colour'[\s\S]*usage: stackl submit/);
    expect(await submitCommand(io).run(['--kind', 'nope', '--action', 'run'])).toBe(1);
    expect(io.errors.at(-1)).toMatch(/unknown kind "nope".*\[UNKNOWN_KIND\]/);
    expect(await statusCommand(io).run(['not-an-id'])).toBe(1);
    expect(await listCommand(io).run(['--limit', '0'])).toBe(2);
    expect(io.errors.at(-1)).toMatch(/limit[\s\S]*usage: stackl list/);
    expect(Object.keys(apiCommands).sort()).toEqual(['api', 'audit', 'dlq', 'kinds', 'list', 'status', 'submit', 'watch']);
  });
});

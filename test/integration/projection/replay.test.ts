// Replay and compare on the real Kafka and PostgreSQL: replaying the same log twice gives
// identical projections, equal to the live one; compare names every difference; and
// `stackl replay` (replayCommand) reports progress, then agreement or the differences.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import {
  compareProjections,
  describeDifference,
  replayCommand,
  replayProjection,
  replaySchemaName,
  startProjector,
  type ReplayProgress,
  type RunningProjector,
} from '../../../processors/projection/index.js';
import type { TaskEventMessage } from '../../../schemas/index.js';
import { topicNames } from '../../../topics/names.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { endsOf, EventWriter, spec, TaskLife } from './event-writer.js';

const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix('projreplay'), STACKL_PARTITIONS: '3', STACKL_DB_SCHEMA: uniqueSchema('projreplay') });
const [first, second, third] = [uniqueSchema('replay_a'), uniqueSchema('replay_b'), uniqueSchema('replay_c')];
const url = testDatabaseUrl();
const writer = new EventWriter(testKafka(), topicNames(config.topicPrefix).events, config.partitions);
const sql = new pg.Pool({ connectionString: url, max: 2 });
let projector: RunningProjector;

/** A mixed log: completions, failures with rollbacks, a rejection, an expunged and re-submitted task. */
function mixedLog(count: number): TaskEventMessage[][] {
  return Array.from({ length: count }, (_, i) => {
    const life = new TaskLife();
    if (i % 17 === 0) return [life.next('TaskRejected', { code: 'INVALID_PAYLOAD', message: `bad payload ${i}` })];
    const start = [life.next('TaskSubmitted', { task: spec(life.taskId, { payload: JSON.stringify({ outcome: 'succeed', i }) }), deadlineAt: 1_750_000_060_000 }), life.next('AttemptDispatched', { attempt: 1, deadlineAt: 1_750_000_030_000 })];
    if (i % 5 === 0) {
      return [...start, life.next('TaskFailed', { reason: 'timeout', message: 'too slow' }), life.next('RollbackDispatched', { rollbackAttempt: 1, deadlineAt: 1_750_000_070_000 }), life.next('RollbackSucceeded', { rollbackAttempt: 1 })];
    }
    const done = [...start, life.next('AttemptStarted', { attempt: 1, workerId: `w${i % 3}`, heartbeatDeadlineAt: null }), life.next('TaskCompleted', { output: JSON.stringify({ i }) })];
    return i % 7 === 0 ? [...done, life.next('TaskExpunged', {}), life.next('TaskSubmitted', { task: spec(life.taskId), deadlineAt: 1_750_000_090_000 })] : done;
  });
}

beforeAll(async () => {
  projector = await startProjector(config, { clientId: 'projreplay-test' });
  await writer.connect();
  const lives = mixedLog(300);
  // Several transactions, tasks interleaved, one aborted: what a busy broker leaves behind.
  for (let i = 0; i < lives.length; i += 60) {
    const chunk = lives.slice(i, i + 60);
    await writer.write(chunk.flatMap((l) => l.slice(0, 2)));
    await writer.write(chunk.flatMap((l) => l.slice(2)));
  }
  await writer.write(mixedLog(10).flat(), { abort: true });
  const until = Date.now() + 30_000;
  while ((await projector.lag()).total > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
});
afterAll(async () => {
  await projector?.stop();
  await writer.disconnect();
  await sql.end();
  for (const schema of [config.databaseSchema, first, second, third, replaySchemaName(config.databaseSchema)]) await dropSchema(schema);
});

describe('replay and compare', () => {
  it('replays the same log twice into identical projections, equal to the live one', async () => {
    const progress: ReplayProgress[] = [];
    const a = await replayProjection({ config, schema: first, onProgress: (p) => progress.push(p), progressIntervalMs: 50 });
    const b = await replayProjection({ config, schema: second });
    expect(a.events).toBeGreaterThan(1000);
    expect([b.events, b.through]).toEqual([a.events, a.through]);
    expect(progress.at(-1)).toMatchObject({ done: progress.at(-1)?.total });
    expect(await compareProjections(url, first, second)).toEqual([]);
    expect((await projector.lag()).total).toBe(0);
    expect(await compareProjections(url, config.databaseSchema, first)).toEqual([]);
    await expect(replayProjection({ config, schema: first })).rejects.toMatchObject({ code: 'REPLAY_TARGET_NOT_EMPTY' });
  });

  it('names every difference: the task, the column and both values, and rows missing on either side', async () => {
    const [changed, removed] = (await sql.query<{ id: string }>(`select id::text from ${first}.tasks where status = 'Completed' order by id limit 2`)).rows.map((r) => r.id);
    await sql.query(`update ${second}.tasks set status = 'Failed', output = '{"i": -1}' where id = $1`, [changed]);
    await sql.query(`delete from ${second}.tasks where id = $1`, [removed]);
    const { rows: [gone] } = await sql.query<{ task_id: string; partition: number; offset: string }>(`delete from ${first}.task_events where "offset" = (select min("offset") from ${first}.task_events where partition = 0) and partition = 0 returning task_id::text, partition, "offset"`);
    const differences = await compareProjections(url, first, second);
    const original = (await sql.query<{ output: unknown }>(`select output from ${first}.tasks where id = $1`, [changed])).rows[0]?.output;
    expect(differences).toEqual(expect.arrayContaining([
      expect.objectContaining({ table: 'tasks', taskId: changed, kind: 'column', column: 'status', a: 'Completed', b: 'Failed' }),
      expect.objectContaining({ table: 'tasks', taskId: changed, kind: 'column', column: 'output', a: original, b: { i: -1 } }),
      expect.objectContaining({ table: 'tasks', taskId: removed, kind: 'only-in-a' }),
      expect.objectContaining({ table: 'task_events', taskId: gone?.task_id, kind: 'only-in-b', position: { partition: 0, offset: Number(gone?.offset) } }),
    ]));
    expect(differences).toHaveLength(4);
    const text = differences.map((d) => describeDifference(d, 'A', 'B'));
    expect(text).toContain(`tasks: task ${changed} differs in status: A="Completed" B="Failed"`);
    expect(text).toContain(`tasks: task ${removed} is in A but missing from B`);
  });

  it('compares only what both hold when the live projection moved on (through)', async () => {
    const replay = await replayProjection({ config, schema: third });
    const life = new TaskLife();
    const written = await writer.write([life.next('TaskSubmitted', { task: spec(life.taskId), deadlineAt: 1_750_000_060_000 })]);
    for (const [partition, end] of endsOf(written)) expect(await projector.waitFor(partition, end, 20_000)).toBe(true);
    const all = await compareProjections(url, config.databaseSchema, third);
    expect(all.map((d) => [d.table, d.taskId, d.kind])).toEqual([['tasks', life.taskId, 'only-in-a'], ['task_events', life.taskId, 'only-in-a']]);
    expect(await compareProjections(url, config.databaseSchema, third, { through: replay.through })).toEqual([]);
  });
});

describe('replayCommand (stackl replay)', () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } }, out, err };
  };

  it('prints progress with a rate, then reports agreement with exit code 0', async () => {
    const { io, out, err } = capture();
    expect(await replayCommand(config, io, { catchUpMs: 5000 })).toBe(0);
    expect(err.join('')).toMatch(/replay: [\d,]+\/[\d,]+ \(100%\), [\d,]+ events\/s/);
    expect(JSON.parse(out.join(''))).toMatchObject({ live: config.databaseSchema, replay: replaySchemaName(config.databaseSchema), equal: true, differences: [], liveBehind: {} });
  });

  it('reports each difference and exits 1 when the live projection disagrees with the log', async () => {
    const [victim] = (await sql.query<{ id: string }>(`select id::text from ${config.databaseSchema}.tasks where status = 'Completed' order by id limit 1`)).rows.map((r) => r.id);
    await sql.query(`update ${config.databaseSchema}.tasks set attempts = 99 where id = $1`, [victim]);
    const { io, out, err } = capture();
    expect(await replayCommand(config, io, { catchUpMs: 5000 })).toBe(1);
    const report = JSON.parse(out.join('')) as { equal: boolean; differences: { text: string }[] };
    expect(report.equal).toBe(false);
    expect(report.differences.map((d) => d.text)).toEqual([`tasks: task ${victim} differs in attempts: ${config.databaseSchema}=99 ${replaySchemaName(config.databaseSchema)}=1`]);
    expect(err.join('')).toContain(`difference: tasks: task ${victim} differs in attempts`);
  });
});

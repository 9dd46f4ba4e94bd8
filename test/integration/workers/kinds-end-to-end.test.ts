// Every datastore kind end to end through the broker, on each channel (kafka, and redis
// behind its relay): stack tasks placed on targets and applied by two agents, an agent
// failing in the middle of a create (everything already applied is torn down), failed
// updates re-applying the previous instance, snapshots, documents; then the shared
// consistency check over every task of the run.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import type { Agent } from '../../../agents/agent.js';
import { EnvironmentStore } from '../../../agents/environment-store.js';
import { startAgent } from '../../../agents/start-agent.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import type { SubmitRequest } from '../../../processors/broker/task-broker.js';
import { startRelay, type Relay } from '../../../channels/start-relay.js';
import { topicNames } from '../../../topics/names.js';
import { DocumentStore } from '../../../workers/datastore/document-store.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { checkConsistency, outcomeOf, type EndedTask } from '../../support/consistency.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { PrivateRedis } from '../../support/redis-server.js';

const TARGETS: Record<string, { capabilities: string[]; capacity?: number }> = {
  'east-1': { capabilities: ['linux', 'web'] },
  'east-2': { capabilities: ['linux', 'db'], capacity: 4 },
  'west-1': { capabilities: ['linux', 'web'] },
  // Only west-2 is "flaky", and its agent fails every ordinary job there.
  'west-2': { capabilities: ['linux', 'flaky'] },
};

describe.each(['kafka', 'redis', 'rabbitmq'] as const)('task kinds end to end on the %s channel', (channel) => {
  const redis = new PrivateRedis();
  const schema = uniqueSchema(`kinds_${channel}`);
  const prefix = uniquePrefix(`kinds-${channel}`);
  const env = (): Record<string, string> => ({
    STACKL_TOPIC_PREFIX: prefix,
    STACKL_PARTITIONS: '3',
    STACKL_DB_SCHEMA: schema,
    STACKL_CHANNEL: channel,
    ...(channel === 'redis' ? { REDIS_URL: redis.url } : {}),
  });
  let config: StacklConfig;
  const kafka = testKafka();
  const client = new KafkaBrokerClient(kafka, topicNames(prefix).requests, 3);
  const log = new EventLog(kafka, topicNames(prefix).events);
  const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
  const store = new DocumentStore(pool, schema);
  const submitted: { taskId: string; request: SubmitRequest }[] = [];
  let broker: RunningLifecycleApp;
  let relay: Relay | undefined;
  let worker: Worker;
  let agents: Agent[] = [];

  beforeAll(async () => {
    if (channel === 'redis') await redis.start();
    config = loadConfig({ ...process.env, ...env() });
    await migrate(testDatabaseUrl(), schema);
    broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    if (channel !== 'kafka') relay = await startRelay(config, undefined, env());
    worker = await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' });
    agents = [
      await startAgent(config, { name: 'east', targets: 'east-*' }, env()),
      await startAgent(config, { name: 'west', targets: 'west-*' }, { ...env(), STACKL_FAULT_INJECTION: '1', STACKL_AGENT_FAIL_TARGETS: 'west-2' }),
    ];
    const seed = { taskId: randomUUID(), attempt: 1 };
    for (const [name, body] of Object.entries(TARGETS)) await store.write(seed, { op: 'create', key: `infrastructure/target/${name}`, body });
    await log.start();
  }, 120_000);

  afterAll(async () => {
    await Promise.all([worker.stop(), ...agents.map((a) => a.stop()), log.stop(), client.close()]);
    await relay?.stop();
    await broker.stop();
    if (channel === 'redis') await redis.stop();
    await pool.end();
    await dropSchema(schema);
    await dropSchema(config.environmentSchema);
  });

  const environment = (): EnvironmentStore => new EnvironmentStore(pool, config.environmentSchema);

  /** Submits, waits for the end, and returns the history's event types. */
  async function run(request: SubmitRequest): Promise<{ taskId: string; types: string[]; output: unknown }> {
    const { taskId } = await client.submit({ maxAttempts: 1, timeoutMs: 30_000, ...request });
    submitted.push({ taskId, request });
    const history = await log.waitFor(taskId, () => outcomeOf(log.byTask.get(taskId) ?? []) !== undefined, 45_000);
    const completed = history.find((e) => e.type === 'TaskCompleted')?.body as { output?: string } | undefined;
    return { taskId, types: history.map((e) => e.type), output: completed?.output === undefined ? undefined : JSON.parse(completed.output) };
  }

  const placedOn = async (stack: string): Promise<string[]> => (await environment().list()).filter((r) => r.resource.startsWith(`${stack}/`)).map((r) => `${r.resource}@${r.target}`).sort();

  it('creates a stack: each service on targets with its capabilities, one agent job per service × target', async () => {
    const created = await run({
      kind: 'stack',
      action: 'create',
      payload: { name: 'shop', services: [{ name: 'web', requires: ['web'], replicas: 2, config: { image: 'web:1' } }, { name: 'db', requires: ['db'] }] },
    });
    expect(created.types).toContain('TaskCompleted');
    expect(created.output).toMatchObject({ stack: 'shop', jobs: 3 });
    expect(await placedOn('shop')).toEqual(['shop/db@east-2', 'shop/web@east-1', 'shop/web@west-1']);
    expect((await environment().list(['west-1']))[0]?.spec).toEqual({ stack: 'shop', service: 'web', config: { image: 'web:1' } });
  });

  it('tears down everything already applied when an agent fails in the middle of a create', async () => {
    const failed = await run({
      kind: 'stack',
      action: 'create',
      payload: { name: 'doomed', services: [{ name: 'web', requires: ['web'], replicas: 2 }, { name: 'cache', requires: ['db'] }, { name: 'worker', requires: ['flaky'] }] },
    });
    expect(failed.types).toEqual(expect.arrayContaining(['AttemptFailed', 'TaskFailed', 'RollbackSucceeded']));
    expect(await placedOn('doomed')).toEqual([]);
    expect(await store.get('stack/instance/doomed')).toBeUndefined();
  });

  it('re-applies the previous instance when an update fails, and applies a good update', async () => {
    const bad = await run({
      kind: 'stack',
      action: 'update',
      payload: { name: 'shop', services: [{ name: 'web', requires: ['web'], config: { image: 'web:2' } }, { name: 'db', requires: ['db'] }, { name: 'gpu', requires: ['flaky'] }] },
    });
    expect(bad.types).toContain('RollbackSucceeded');
    expect(await placedOn('shop')).toEqual(['shop/db@east-2', 'shop/web@east-1', 'shop/web@west-1']);
    expect((await environment().list(['east-1']))[0]?.spec).toMatchObject({ config: { image: 'web:1' } });

    const good = await run({ kind: 'stack', action: 'update', payload: { name: 'shop', services: [{ name: 'web', requires: ['web'], config: { image: 'web:2' } }] } });
    expect(good.types).toContain('TaskCompleted');
    expect(await placedOn('shop')).toEqual(['shop/web@east-1']);
    expect((await environment().list(['east-1']))[0]?.spec).toMatchObject({ config: { image: 'web:2' } });
  });

  it('refuses a stack whose services no target can host, without touching anything', async () => {
    const unplaceable = await run({ kind: 'stack', action: 'create', payload: { name: 'huge', services: [{ name: 'web', requires: ['web'], replicas: 3 }] } });
    expect(unplaceable.types).toContain('RollbackSucceeded');
    expect(JSON.stringify(unplaceable.types)).not.toContain('TaskCompleted');
    expect(await placedOn('huge')).toEqual([]);
  });

  it('instantiates a stack template: typed parameters and defaults, placed and applied like any stack', async () => {
    const template = {
      parameters: { image: { type: 'string' }, replicas: { type: 'integer', default: 1 }, env: { type: 'string', default: 'prod' } },
      services: [
        { name: 'web', requires: ['web'], replicas: '${replicas}', config: { image: '${image}', host: 'web-${env}.shop' } },
        { name: 'db', requires: ['db'] },
      ],
    };
    await store.write({ taskId: randomUUID(), attempt: 1 }, { op: 'create', key: 'stack/template/webapp', body: template });
    const created = await run({ kind: 'stack', action: 'create', payload: { name: 'tmpl', template: 'webapp', parameters: { image: 'web:3', replicas: 2 } } });
    expect(created.types).toContain('TaskCompleted');
    expect(await placedOn('tmpl')).toEqual(['tmpl/db@east-2', 'tmpl/web@east-1', 'tmpl/web@west-1']);
    expect((await environment().list(['west-1'])).find((r) => r.resource === 'tmpl/web')?.spec).toEqual({ stack: 'tmpl', service: 'web', config: { image: 'web:3', host: 'web-prod.shop' } });
    expect((await store.get('stack/instance/tmpl'))?.body).toMatchObject({ services: [{ name: 'web', replicas: 2 }, { name: 'db', replicas: 1 }] });
  });

  it('fails a task whose template parameters do not fit, touching nothing; rolls back a template stack an agent fails', async () => {
    const missing = await run({ kind: 'stack', action: 'create', payload: { name: 'tmpl-bad', template: 'webapp', parameters: { replicas: 'two' } } });
    expect(missing.types).toEqual(expect.arrayContaining(['AttemptFailed', 'TaskFailed', 'RollbackSucceeded']));
    const failure = log.byTask.get(missing.taskId)?.find((e) => e.type === 'AttemptFailed')?.body as { message: string };
    expect(failure.message).toMatch(/needs parameter "image".*must be an integer, got "two"/);
    const absent = await run({ kind: 'stack', action: 'create', payload: { name: 'tmpl-none', template: 'no-such-template' } });
    expect(absent.types).toContain('RollbackSucceeded');
    expect(await placedOn('tmpl-bad')).toEqual([]);

    await store.write({ taskId: randomUUID(), attempt: 1 }, { op: 'create', key: 'stack/template/risky', body: { parameters: { needs: { type: 'string' } }, services: [{ name: 'web', requires: ['web'] }, { name: 'job', requires: ['${needs}'] }] } });
    const rolledBack = await run({ kind: 'stack', action: 'create', payload: { name: 'tmpl-risky', template: 'risky', parameters: { needs: 'flaky' } } });
    expect(rolledBack.types).toEqual(expect.arrayContaining(['AttemptFailed', 'TaskFailed', 'RollbackSucceeded']));
    expect(await placedOn('tmpl-risky')).toEqual([]);
    expect(await store.get('stack/instance/tmpl-risky')).toBeUndefined();
  });

  it('deletes a stack, and a failed delete puts it back', async () => {
    await run({ kind: 'stack', action: 'create', payload: { name: 'lab', services: [{ name: 'api', requires: ['web'], replicas: 2 }] } });
    expect(await placedOn('lab')).toHaveLength(2);
    const deleted = await run({ kind: 'stack', action: 'delete', payload: { name: 'lab' } });
    expect(deleted.types).toContain('TaskCompleted');
    expect(await placedOn('lab')).toEqual([]);
    const missing = await run({ kind: 'stack', action: 'delete', payload: { name: 'lab' } });
    expect(missing.types).toContain('RollbackSucceeded');
  });

  it('takes and restores a snapshot of documents, and a failed restore changes nothing', async () => {
    await run({ kind: 'document', action: 'create', payload: { documents: [{ key: 'cfg/app/a', body: { v: 1 } }, { key: 'cfg/app/b', body: { v: 1 } }] } });
    const snap = await run({ kind: 'snapshot', action: 'create', payload: { name: 'before', prefix: 'cfg/app/' } });
    expect(snap.output).toEqual({ snapshot: 'snapshot/documents/before', documents: 2 });
    await run({ kind: 'document', action: 'update', payload: { documents: [{ key: 'cfg/app/a', body: { v: 2 } }] } });
    await run({ kind: 'document', action: 'delete', payload: { keys: ['cfg/app/b'] } });
    await run({ kind: 'document', action: 'create', payload: { documents: [{ key: 'cfg/app/c', body: { v: 9 } }] } });
    const restored = await run({ kind: 'snapshot', action: 'restore', payload: { name: 'before' } });
    expect(restored.output).toEqual({ put: 2, deleted: 1 });
    expect((await store.list('cfg/app/')).map((d) => [d.key, d.body])).toEqual([
      ['cfg/app/a', { v: 1 }],
      ['cfg/app/b', { v: 1 }],
    ]);
    const unknown = await run({ kind: 'snapshot', action: 'restore', payload: { name: 'never-taken' } });
    expect(unknown.types).toContain('RollbackSucceeded');
  });

  it('leaves the datastore and the environment consistent with every outcome', async () => {
    const ended: EndedTask[] = submitted.map(({ taskId, request }) => ({
      taskId,
      kind: request.kind,
      action: request.action,
      payload: request.payload as Record<string, unknown>,
      outcome: outcomeOf(log.byTask.get(taskId) ?? []) ?? 'rollback-failed',
    }));
    expect(ended.filter((t) => t.outcome === 'completed').length).toBeGreaterThanOrEqual(8);
    expect(ended.filter((t) => t.outcome === 'rolled-back').length).toBeGreaterThanOrEqual(5);
    expect(await checkConsistency(pool, schema, config.environmentSchema, ended)).toEqual([]);
  });
});

// kill -9 of a worker process in the middle of a stack task, on each channel, while
// slow agents are still applying its jobs: the broker notices the silent attempt and
// either retries it on another worker (the stack ends complete) or, with no attempts
// left, rolls it back (everything already applied is torn down). Either way the
// shared consistency check finds the datastore and the environment in agreement.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../../agents/agent.js';
import { EnvironmentStore } from '../../../agents/environment-store.js';
import { startAgent } from '../../../agents/start-agent.js';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../../processors/broker/kafka/lifecycle-app.js';
import type { SubmitRequest } from '../../../processors/broker/task-broker.js';
import { startRelay, type Relay } from '../../../channels/start-relay.js';
import { topicNames } from '../../../topics/names.js';
import { DocumentStore } from '../../../workers/datastore/document-store.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { checkConsistency, outcomeOf } from '../../support/consistency.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { PrivateRedis } from '../../support/redis-server.js';
import { RoleProcess } from '../../support/role-process.js';

describe.each(['kafka', 'redis', 'rabbitmq'] as const)('a worker killed mid stack task on the %s channel', (channel) => {
  const redis = new PrivateRedis();
  const schema = uniqueSchema(`stack_crash_${channel}`);
  const prefix = uniquePrefix(`stack-crash-${channel}`);
  const env = (): Record<string, string> => ({
    STACKL_TOPIC_PREFIX: prefix,
    STACKL_PARTITIONS: '3',
    STACKL_DB_SCHEMA: schema,
    STACKL_CHANNEL: channel,
    STACKL_WORKER_SESSION_TIMEOUT_MS: '6000',
    // Longer than the task's heartbeat timeout: the broker gives up on the attempt before
    // the relay requeues the dead worker's order (which then runs late, and is fenced).
    STACKL_WORKER_LEASE_MS: '3000',
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
  let agent: Agent;
  const survivors: Worker[] = [];

  beforeAll(async () => {
    if (channel === 'redis') await redis.start();
    config = loadConfig({ ...process.env, ...env() });
    await migrate(testDatabaseUrl(), schema);
    broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    if (channel !== 'kafka') relay = await startRelay(config, undefined, env());
    // A slow agent: each job takes 700 ms, so the worker dies while jobs are under way.
    agent = await startAgent(config, { name: 'slow', targets: 'node-*' }, { ...env(), STACKL_FAULT_INJECTION: '1', STACKL_AGENT_DELAY_MS: '700' });
    const seed = { taskId: randomUUID(), attempt: 1 };
    for (const name of ['node-1', 'node-2', 'node-3']) await store.write(seed, { op: 'create', key: `infrastructure/target/${name}`, body: { capabilities: ['linux'] } });
    await log.start();
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...survivors.map((w) => w.stop()), agent.stop(), log.stop(), client.close()]);
    await relay?.stop();
    await broker.stop();
    if (channel === 'redis') await redis.stop();
    await pool.end();
    await dropSchema(schema);
    await dropSchema(config.environmentSchema);
  });

  /**
   * Starts a worker process, submits, kills the worker once its attempt has begun, then lets
   * an in-process worker take over: at once, or once the task's history shows `takeOverAfter`.
   */
  async function submitAndKill(request: SubmitRequest, takeOverAfter?: string): Promise<string[]> {
    // The doomed process must be the only worker when the task arrives.
    await Promise.all(survivors.splice(0).map((w) => w.stop()));
    const doomed = new RoleProcess('worker', env(), /worker ready/);
    await doomed.start();
    const { taskId } = await client.submit(request);
    submitted.push({ taskId, request });
    await log.waitFor(taskId, (types) => types.includes('AttemptStarted'));
    await new Promise((resolve) => setTimeout(resolve, 900));
    await doomed.kill('SIGKILL');
    if (takeOverAfter !== undefined) await log.waitFor(taskId, (types) => types.includes(takeOverAfter), 30_000);
    survivors.push(await startWorker(config, { ...env(), STACKL_WORKER_CONCURRENCY: '4' }));
    const history = await log.waitFor(taskId, () => outcomeOf(log.byTask.get(taskId) ?? []) !== undefined, 90_000);
    return history.map((e) => e.type);
  }

  const services = [
    { name: 'web', replicas: 3, config: { image: 'web:1' } },
    { name: 'api', replicas: 2 },
  ];

  it('retries the attempt on another worker, and the stack ends complete', { timeout: 150_000 }, async () => {
    const types = await submitAndKill({ kind: 'stack', action: 'create', payload: { name: 'retried', services }, heartbeatTimeoutMs: 2_000, maxAttempts: 3, timeoutMs: 90_000 });
    expect(types).toContain('TaskCompleted');
    expect(types.filter((t) => t === 'AttemptStarted').length).toBeGreaterThanOrEqual(2);
    const placed = (await new EnvironmentStore(pool, config.environmentSchema).list()).filter((r) => r.resource.startsWith('retried/'));
    expect(placed).toHaveLength(5);
  });

  it('with no attempt left, rolls back: what the dead attempt applied is torn down', { timeout: 150_000 }, async () => {
    // The successor starts only once the broker gave up on the attempt: RabbitMQ hands a dead
    // worker's order on the moment its connection drops, and a successor already running
    // would carry the same attempt on to success.
    const types = await submitAndKill({ kind: 'stack', action: 'create', payload: { name: 'abandoned', services }, heartbeatTimeoutMs: 2_000, maxAttempts: 1, timeoutMs: 90_000 }, 'AttemptFailed');
    expect(types).toEqual(expect.arrayContaining(['TaskFailed', 'RollbackSucceeded']));
    expect((await new EnvironmentStore(pool, config.environmentSchema).list()).filter((r) => r.resource.startsWith('abandoned/'))).toEqual([]);
    // Late work of the dead attempt (its jobs, or its order handed on by the channel) comes after the compensation: refused.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const ended = submitted.map(({ taskId, request }) => ({ taskId, kind: request.kind, action: request.action, payload: request.payload as Record<string, unknown>, outcome: outcomeOf(log.byTask.get(taskId) ?? []) ?? ('rollback-failed' as const) }));
    expect(await checkConsistency(pool, schema, config.environmentSchema, ended)).toEqual([]);
  });
});

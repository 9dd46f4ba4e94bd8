// SIGTERM to `stackl all` while an attempt runs: the roles stop one after the other
// (API, worker, agent, broker, projector), the worker finishes its attempt while the
// broker still runs to record the outcome, and the process exits 0. Before, every role
// stopped at once and the worker aborted the attempt, which then waited out its timeout.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { KafkaBrokerClient } from '../../processors/broker/kafka-broker-client.js';
import { topicNames } from '../../topics/names.js';
import { EventLog } from '../support/event-log.js';
import { testKafka } from '../support/kafka.js';
import { uniquePrefix } from '../support/names.js';
import { freePort } from '../support/ports.js';
import { dropSchema, uniqueSchema } from '../support/postgres.js';
import { RoleProcess } from '../support/role-process.js';

const schema = uniqueSchema('stop_order');
const env = { STACKL_TOPIC_PREFIX: uniquePrefix('stop-order'), STACKL_DB_SCHEMA: schema, STACKL_PARTITIONS: '2' };
const config = loadConfig({ ...process.env, ...env });
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topicNames(config.topicPrefix).requests, config.partitions);
const log = new EventLog(kafka, topicNames(config.topicPrefix).events);
let all: RoleProcess | undefined;

afterAll(async () => {
  await all?.kill();
  await Promise.all([log.stop(), client.close()]);
  await Promise.all([dropSchema(schema), dropSchema(`${schema}_env`)]);
});

interface LogLine {
  msg?: string;
  step?: string;
}

describe('stackl all on SIGTERM', () => {
  it('stops its roles in order, each after the one before, letting the running attempt complete, and exits 0', { timeout: 180_000 }, async () => {
    // `info` (not the harness's `warn`): the stop steps are logged at info.
    all = new RoleProcess('all', { ...env, STACKL_API_PORT: String(await freePort()), STACKL_LOG_LEVEL: 'info' }, /ready: REST API/);
    await all.start(150_000);
    await log.start();
    const { taskId } = await client.submit({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 3_000 }, maxAttempts: 1, timeoutMs: 120_000 });
    await log.waitFor(taskId, (t) => t.includes('AttemptStarted'), 60_000);

    const exit = await all.kill('SIGTERM');
    // Log lines are one JSON object each; stdout's pretty-printed report is not.
    expect(exit).toEqual({ code: 0, signal: null });
    const lines = all.output.join('').split('\n').filter((l) => l.startsWith('{"level"')).map((l) => JSON.parse(l) as LogLine);
    expect(lines.filter((l) => l.msg === 'stopped').map((l) => l.step)).toEqual(['api', 'worker', 'agent', 'broker', 'notifier', 'projector']);
    // The outcome was recorded by the broker before it stopped: nothing runs any more.
    const history = await log.waitFor(taskId, (t) => t.includes('TaskCompleted'), 20_000);
    expect(history.filter((e) => e.type === 'AttemptFailed')).toEqual([]);
  });
});

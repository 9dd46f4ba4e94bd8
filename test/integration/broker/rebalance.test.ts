// Two broker processes share the partitions; one stops; the other restores the
// stopped one's partitions from the changelog and keeps their timeouts.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { topicNames } from '../../../topics/names.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { ScriptedWorker } from '../../support/probe-worker.js';
import { RoleProcess } from '../../support/role-process.js';

const env = { STACKL_TOPIC_PREFIX: uniquePrefix('rebalance'), STACKL_PARTITIONS: '3' };
const config = loadConfig({ ...process.env, ...env });
const topics = topicNames(config.topicPrefix);
const kafka = testKafka();
const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
const worker = new ScriptedWorker(kafka, topics);
const log = new EventLog(kafka, topics.events);
const first = new RoleProcess('broker', env, /broker ready/);
const second = new RoleProcess('broker', env, /broker ready/);

afterAll(async () => {
  await Promise.all([first.kill(), second.kill()]);
  await Promise.all([worker.stop(), log.stop(), client.close()]);
});

describe('broker rebalance', () => {
  it('hands a stopped instance’s partitions, state and timeouts to the survivor', { timeout: 180_000 }, async () => {
    await first.start();
    await second.start();
    const owned = /owns partitions ([\d,]*)/.exec(second.output.join(''))?.[1]?.split(',').filter(Boolean).map(Number) ?? [];
    expect(owned.length).toBeGreaterThan(0);
    await worker.start();
    await log.start();

    const hanging = (await client.submitMany(Array.from({ length: 60 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'hang' }, timeoutMs: 8000 })))).map((r) => r.taskId);
    await log.waitForAll(() => hanging.every((id) => log.types(id).includes('AttemptStarted')), 60_000, () => 'hanging tasks not all started');
    const onSecond = hanging.filter((id) => owned.includes(partitionForKey(id, config.partitions)));
    expect(onSecond.length).toBeGreaterThan(0);

    await second.kill('SIGTERM');
    const later = (await client.submitMany(Array.from({ length: 30 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } })))).map((r) => r.taskId);

    await log.waitForAll(
      () => hanging.every((id) => log.types(id).includes('RollbackSucceeded')) && later.every((id) => log.types(id).includes('TaskCompleted')),
      90_000,
      () => `${hanging.filter((id) => !log.types(id).includes('RollbackSucceeded')).length} hanging tasks not rolled back`,
    );
    for (const id of onSecond) {
      const history = log.byTask.get(id) ?? [];
      const submitted = history.find((e) => e.type === 'TaskSubmitted');
      const failed = history.find((e) => e.type === 'TaskFailed');
      expect(failed?.body).toMatchObject({ reason: 'timeout' });
      // The survivor fired the timeout from restored state, at (not long after) the deadline.
      expect((failed?.time ?? 0) - (submitted?.time ?? 0)).toBeGreaterThanOrEqual(8000);
      expect(history.map((e) => e.sequence)).toEqual(history.map((_, i) => i + 1));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { catalogue } from '../../../topics/catalogue.js';
import { changelogTopic, consumerGroup, topicNames, transactionalId } from '../../../topics/names.js';

describe('topic names', () => {
  it('derives every name from the prefix', () => {
    expect(topicNames('stackl.')).toEqual({
      requests: 'stackl.task.requests',
      results: 'stackl.task.results',
      dispatch: 'stackl.task.dispatch',
      rollbacks: 'stackl.task.rollbacks',
      events: 'stackl.task.events',
      notifications: 'stackl.task.notifications',
      dlq: 'stackl.task.dlq',
      agentJobs: 'stackl.agent.jobs',
      agentReplies: 'stackl.agent.replies',
      kinds: 'stackl.task.kinds',
    });
    expect(changelogTopic('stackl.', 'lifecycle', 'tasks')).toBe('stackl.lifecycle-tasks-changelog');
    expect(consumerGroup('stackl.', 'lifecycle')).toBe('stackl.lifecycle');
    expect(transactionalId('stackl.', 'lifecycle', 'stackl.task.requests', 3)).toBe('stackl.lifecycle-stackl.task.requests-3');
  });
});

describe('catalogue', () => {
  const specs = catalogue({ prefix: 'p.', partitions: 8 });
  const byName = new Map(specs.map((s) => [s.name, s]));

  it('co-partitions requests, results, the order topics, events and the changelog, not the DLQ', () => {
    const coPartitioned = specs.filter((s) => s.coPartitioned).map((s) => s.name);
    expect(coPartitioned).toEqual(['p.task.requests', 'p.task.results', 'p.task.dispatch', 'p.task.rollbacks', 'p.task.notifications', 'p.task.events', 'p.lifecycle-tasks-changelog']);
    expect(new Set(specs.filter((s) => s.name !== 'p.task.kinds').map((s) => s.partitions))).toEqual(new Set([8]));
    // The kind registry is read whole by every reader, in the order it was written.
    expect(byName.get('p.task.kinds')?.partitions).toBe(1);
  });

  it('compacts only the changelog and the kind registry, and keeps the audit log forever by default', () => {
    expect(specs.filter((s) => s.cleanupPolicy === 'compact').map((s) => s.name)).toEqual(['p.lifecycle-tasks-changelog', 'p.task.kinds']);
    expect(byName.get('p.task.events')?.configs).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': '-1' });
    expect(byName.get('p.task.requests')?.configs['retention.ms']).toBe(String(7 * 24 * 3600 * 1000));
  });

  it('takes retentions and replicas from the configuration, naming the settings behind them', () => {
    const configured = catalogue({ prefix: 'p.', partitions: 2, eventsRetentionMs: 864_000_000, dlqRetentionMs: 7_200_000, replicationFactor: 3, minInsyncReplicas: 2 });
    const find = (name: string) => configured.find((s) => s.name === name);
    expect(find('p.task.events')?.configs['retention.ms']).toBe('864000000');
    expect(find('p.task.events')?.sources).toEqual({ 'retention.ms': 'STACKL_EVENTS_RETENTION_MS' });
    expect(find('p.task.dlq')?.configs['retention.ms']).toBe('7200000');
    for (const spec of configured) expect([spec.replicationFactor, spec.minInsyncReplicas]).toEqual([3, 2]);
    expect(byName.get('p.task.dlq')?.configs['retention.ms']).toBe(String(90 * 24 * 3600 * 1000));
    expect(byName.get('p.task.events')).not.toHaveProperty('replicationFactor');
  });

  it('puts the cleanup policy into the configs it creates topics with', () => {
    for (const spec of specs) expect(spec.configs['cleanup.policy']).toBe(spec.cleanupPolicy);
  });
});

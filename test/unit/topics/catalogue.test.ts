import { describe, expect, it } from 'vitest';
import { catalogue } from '../../../topics/catalogue.js';
import { changelogTopic, consumerGroup, topicNames, transactionalId } from '../../../topics/names.js';

describe('topic names', () => {
  it('derives every name from the prefix', () => {
    expect(topicNames('stackl.')).toEqual({
      requests: 'stackl.task.requests',
      results: 'stackl.task.results',
      dispatch: 'stackl.task.dispatch',
      events: 'stackl.task.events',
      dlq: 'stackl.task.dlq',
      agentJobs: 'stackl.agent.jobs',
      agentReplies: 'stackl.agent.replies',
    });
    expect(changelogTopic('stackl.', 'lifecycle', 'tasks')).toBe('stackl.lifecycle-tasks-changelog');
    expect(consumerGroup('stackl.', 'lifecycle')).toBe('stackl.lifecycle');
    expect(transactionalId('stackl.', 'lifecycle', 'stackl.task.requests', 3)).toBe('stackl.lifecycle-stackl.task.requests-3');
  });
});

describe('catalogue', () => {
  const specs = catalogue({ prefix: 'p.', partitions: 8 });
  const byName = new Map(specs.map((s) => [s.name, s]));

  it('co-partitions requests, results, dispatch, events and the changelog, not the DLQ', () => {
    const coPartitioned = specs.filter((s) => s.coPartitioned).map((s) => s.name);
    expect(coPartitioned).toEqual(['p.task.requests', 'p.task.results', 'p.task.dispatch', 'p.task.events', 'p.lifecycle-tasks-changelog']);
    expect(new Set(specs.map((s) => s.partitions))).toEqual(new Set([8]));
  });

  it('compacts only the changelog and keeps the audit log forever by default', () => {
    expect(specs.filter((s) => s.cleanupPolicy === 'compact').map((s) => s.name)).toEqual(['p.lifecycle-tasks-changelog']);
    expect(byName.get('p.task.events')?.configs).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': '-1' });
    expect(byName.get('p.task.requests')?.configs['retention.ms']).toBe(String(7 * 24 * 3600 * 1000));
  });

  it('puts the cleanup policy into the configs it creates topics with', () => {
    for (const spec of specs) expect(spec.configs['cleanup.policy']).toBe(spec.cleanupPolicy);
  });
});

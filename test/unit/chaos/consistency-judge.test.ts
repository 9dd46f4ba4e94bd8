// The shared consistency check's newer rules (used by chaos invariant 3), on hand-made
// state: stray documents (written by no completed task that asked for them), a
// completed stack whose instance differs from what it asked, and `checkedTasks`
// counting only tasks with effects.
import { describe, expect, it } from 'vitest';
import { judgeConsistency, type EndedTask, type StoredState } from '../../support/consistency.js';

const targets = [
  { key: 'infrastructure/target/n1', body: { capabilities: ['linux'] }, updatedByTask: 'seed' },
  { key: 'infrastructure/target/n2', body: { capabilities: ['linux'] }, updatedByTask: 'seed' },
  { key: 'infrastructure/target/gpu', body: { capabilities: ['gpu'] }, updatedByTask: 'seed' },
];
const seed: EndedTask = { taskId: 'seed', kind: 'document', action: 'create', payload: { documents: targets.map((t) => ({ key: t.key, body: t.body })) }, outcome: 'completed' };
const stackTask: EndedTask = { taskId: 'st', kind: 'stack', action: 'create', payload: { name: 'shop', services: [{ name: 'web', requires: ['linux'], replicas: 2, config: { v: 1 } }] }, outcome: 'completed' };
const probe: EndedTask = { taskId: 'p', kind: 'probe', action: 'run', payload: {}, outcome: 'completed' };
type Service = { name: string; requires: string[]; replicas: number; config: Record<string, unknown> };
const instance = (placement: { service: string; target: string }[], services: Service[] = [{ name: 'web', requires: ['linux'], replicas: 2, config: { v: 1 } }]) => ({
  key: 'stack/instance/shop',
  body: { services, placement } as Record<string, unknown>,
  updatedByTask: 'st',
});
const resourcesOf = (placement: { service: string; target: string }[]) => placement.map((p) => ({ target: p.target, resource: `shop/${p.service}`, spec: { stack: 'shop', service: p.service, config: { v: 1 } } }));
const placed = [{ service: 'web', target: 'n1' }, { service: 'web', target: 'n2' }];
const state = (documents: StoredState['documents'], placement = placed): StoredState => ({
  documents: [...targets, ...documents],
  snapshots: [...targets.map((t) => ({ taskId: 'seed', key: t.key, existed: false, body: null })), { taskId: 'st', key: 'stack/instance/shop', existed: false, body: null }],
  resources: resourcesOf(placement),
});

describe('the consistency check (strays, stack shape, checked tasks)', () => {
  it('passes a consistent state and counts only tasks with effects', () => {
    const report = judgeConsistency(state([instance(placed)]), [seed, stackTask, probe], { everyWriterListed: true });
    expect(report).toEqual({ violations: [], checkedTasks: 2, documents: 4 });
  });

  it('reports documents no completed task asked for, and writers outside the tasks when all are listed', () => {
    const strays = [
      { key: 'chaos/doc/extra', body: { x: 1 }, updatedByTask: 'st' },
      { key: 'chaos/doc/orphan', body: { x: 2 }, updatedByTask: 'nobody' },
    ];
    const listed = judgeConsistency(state([instance(placed), ...strays]), [seed, stackTask, probe], { everyWriterListed: true });
    expect(listed.violations).toEqual([
      'document chaos/doc/extra was written by stack/create task st, which completed without asking for that key',
      'document chaos/doc/orphan was last written by task nobody, which is none of the tasks',
    ]);
    expect(judgeConsistency(state([instance(placed), ...strays]), [seed, stackTask, probe]).violations).toHaveLength(1);
  });

  it('reports a completed stack placed on too few targets, on the same target twice, or on one lacking a capability', () => {
    const one = [{ service: 'web', target: 'n1' }];
    expect(judgeConsistency(state([instance(one)], one), [seed, stackTask]).violations).toEqual(['stack/create task st completed but service web is placed on [n1], not on 2 distinct targets']);
    const twice = [{ service: 'web', target: 'n1' }, { service: 'web', target: 'n1' }];
    expect(judgeConsistency(state([instance(twice)], twice), [seed, stackTask]).violations).toContain('stack/create task st completed but service web is placed on [n1,n1], not on 2 distinct targets');
    const wrong = [{ service: 'web', target: 'n1' }, { service: 'web', target: 'gpu' }];
    expect(judgeConsistency(state([instance(wrong)], wrong), [seed, stackTask]).violations).toEqual(['stack/create task st completed but placed web on gpu, which does not offer linux']);
  });

  it('reports a completed stack whose instance has other services or another config', () => {
    const other = [{ name: 'web', requires: ['linux'], replicas: 2, config: { v: 2 } }, { name: 'db', requires: [], replicas: 1, config: {} }];
    const withDb = [...placed, { service: 'db', target: 'n1' }];
    const report = judgeConsistency({ ...state([instance(withDb, other)], withDb), resources: [...resourcesOf(placed).map((r) => ({ ...r, spec: { ...r.spec, config: { v: 2 } } })), { target: 'n1', resource: 'shop/db', spec: { stack: 'shop', service: 'db', config: {} } }] }, [seed, stackTask]);
    expect(report.violations).toEqual([
      'stack/create task st completed but its instance has services web,db, not web',
      'stack/create task st completed but service web has config {"v":2}, not {"v":1}',
      'stack/create task st completed but its instance places db, which it never asked for, on n1',
    ]);
  });

  it('accepts a rolled-back task that put back what was there, and reports one that left its own write on a shared key', () => {
    const before = { key: 'cfg/a', body: { v: 1 }, updatedByTask: 'undo' };
    const tasks: EndedTask[] = [
      { taskId: 'first', kind: 'document', action: 'create', payload: { documents: [{ key: 'cfg/a', body: { v: 1 } }] }, outcome: 'completed' },
      { taskId: 'undo', kind: 'document', action: 'update', payload: { documents: [{ key: 'cfg/a', body: { v: 2 } }] }, outcome: 'rolled-back' },
    ];
    const snapshots = [{ taskId: 'first', key: 'cfg/a', existed: false, body: null }, { taskId: 'undo', key: 'cfg/a', existed: true, body: { v: 1 } }];
    expect(judgeConsistency({ documents: [before], snapshots, resources: [] }, tasks).violations).toEqual([]);
    expect(judgeConsistency({ documents: [{ ...before, body: { v: 2 } }], snapshots, resources: [] }, tasks).violations).toEqual(['document cfg/a was left by document/update task undo, which rolled back']);
  });
});

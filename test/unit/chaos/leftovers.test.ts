// Invariant 5 on hand-made state: each environment resource is attributed both to the
// task its row names and to the load task that owns its stack, and both must have
// completed; a late-result task leaves no document; a long run with no late result fails.
import { describe, expect, it } from 'vitest';
import { leftovers, LONG_RUN_MS, type LeftoverInput } from '../../chaos/support/leftovers.js';
import { completed, events, loadTask, rolledBack } from './histories.js';

const stack = (id: string, name: string) => loadTask(id, { scenario: 'stack', request: { kind: 'stack', action: 'create', payload: { name, services: [{ name: 'web' }, { name: 'db' }] } } });
const tasks = [stack('ok', 's1'), stack('undone', 's2')];
const histories = new Map([
  ['ok', events('ok', ...completed)],
  ['undone', events('undone', ...rolledBack)],
]);
const base: LeftoverInput = { tasks, histories, resources: [], documents: [], late: new Set(), durationMs: 120_000 };

describe('chaos invariant 5: leftovers attributed to their task', () => {
  it('passes resources of completed stacks, written by their own task', () => {
    const result = leftovers({ ...base, resources: [{ target: 'node-1', resource: 's1/web', writtenByTask: 'ok' }, { target: 'node-2', resource: 's1/db', writtenByTask: 'ok' }] });
    expect(result).toEqual({ violations: [], resourcesAttributed: 2, lateTasks: 0, lateRolledBack: 0 });
  });

  it('reports a resource left by a rolled-back task, by its writer and by its stack', () => {
    const result = leftovers({ ...base, resources: [{ target: 'node-1', resource: 's2/web', writtenByTask: 'undone' }], late: new Set(['undone']) });
    expect(result.violations).toEqual([
      's2/web on node-1 was left by task undone (stack #1, had a late result), which ended rolled-back',
      's2/web on node-1 belongs to the stack of task undone (stack #1, had a late result), which ended rolled-back',
    ]);
    expect(result.lateRolledBack).toBe(1);
  });

  it('reports resources of unknown writers, unknown stacks and services never asked for', () => {
    const result = leftovers({ ...base, resources: [{ target: 'n', resource: 's1/cache', writtenByTask: 'ok' }, { target: 'n', resource: 'zz/web', writtenByTask: 'stranger' }] });
    expect(result.violations).toEqual([
      's1/cache on n: task ok (stack #1) never asked for a service cache',
      'zz/web on n was written by task stranger, which the load never submitted',
      'zz/web on n belongs to stack zz, which no task of the load asked for',
    ]);
  });

  it('reports a document a late-result task left, and a long run that saw no late result', () => {
    expect(leftovers({ ...base, documents: [{ key: 'chaos/doc/x', updatedByTask: 'undone' }], late: new Set(['undone']) }).violations).toEqual(['document chaos/doc/x was left by task undone, whose rollback a late result reopened']);
    expect(leftovers({ ...base, durationMs: LONG_RUN_MS }).violations).toEqual([`a ${LONG_RUN_MS / 1000} s run saw no late result at all: nothing here tested what a late result leaves`]);
    expect(leftovers({ ...base, durationMs: LONG_RUN_MS, late: new Set(['undone']) }).violations).toEqual([]);
  });
});

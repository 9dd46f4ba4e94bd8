// TaskChanges: what GET /tasks/live sends on each look at the projection.
import { describe, expect, it } from 'vitest';
import type { TaskBody } from '../../../api/schemas.js';
import { TaskChanges } from '../../../api/task-changes.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const task = (id: string, sequence: number, atMs: number) => ({ id, sequence, updatedAt: new Date(T0 + atMs).toISOString() }) as TaskBody;

function source(rows: TaskBody[]) {
  const asked: string[] = [];
  return {
    asked,
    rows,
    async changedSince(since: string) {
      asked.push(since);
      return this.rows.filter((r) => r.updatedAt >= since);
    },
  };
}

describe('TaskChanges', () => {
  it('sends each task once per sequence, and again when its sequence moves', async () => {
    const rows = source([task('a', 1, 0), task('b', 3, 10)]);
    const changes = new TaskChanges(rows, 5_000, T0);
    expect((await changes.next()).map((t) => t.id)).toEqual(['a', 'b']);
    expect(await changes.next()).toEqual([]);
    rows.rows = [task('a', 2, 20), task('b', 3, 10)];
    expect((await changes.next()).map((t) => [t.id, t.sequence])).toEqual([['a', 2]]);
  });

  it('reaches back before the newest change, so a later-projected earlier change still goes out', async () => {
    const rows = source([task('a', 1, 10_000)]);
    const changes = new TaskChanges(rows, 5_000, T0);
    await changes.next();
    // Projected after a, but with an earlier event time (another partition behind).
    rows.rows = [task('late', 1, 7_000), task('a', 1, 10_000)];
    expect((await changes.next()).map((t) => t.id)).toEqual(['late']);
    expect(rows.asked.at(-1)).toBe(new Date(T0 + 5_000).toISOString());
  });

  it('starts a look-back before it was created: what changed just before the client connected is sent', async () => {
    const rows = source([task('just-before', 1, -2_000), task('long-ago', 1, -60_000)]);
    expect((await new TaskChanges(rows, 5_000, T0).next()).map((t) => t.id)).toEqual(['just-before']);
  });
});

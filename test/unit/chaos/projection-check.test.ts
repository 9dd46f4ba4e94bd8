// Invariant 2's check against the log itself: a row that is behind, stuck, or says
// another status than the log is reported, as are rows without a task and tasks
// without a row; a row that matches the whole history passes. Likewise each event of
// the log must be in the projected history once, and nothing else.
import { describe, expect, it } from 'vitest';
import { expectedRow, historyMatchesLog, projectionMatchesLog, type ProjectedRow } from '../../chaos/support/projection-check.js';
import { completed, events, rolledBack } from './histories.js';

const histories = new Map([
  ['done', events('done', ...completed)],
  ['undone', events('undone', ...rolledBack)],
]);
const good: ProjectedRow[] = [
  { id: 'done', status: 'Completed', rollback: null, failureReason: null, lastSequence: 5 },
  { id: 'undone', status: 'Failed', rollback: 'done', failureReason: 'error', lastSequence: 7 },
];

describe('chaos invariant 2: the projection says what the log says', () => {
  it('folds a history to the row it must leave', () => {
    expect(expectedRow(events('x', ...rolledBack.slice(0, 6)))).toEqual({ status: 'Failed', rollback: 'running', failureReason: 'error', lastSequence: 6 });
    expect(expectedRow(events('x', ...rolledBack, ['RollbackDispatched', 9], ['RollbackFailed', 10, { retryAt: null }]))).toEqual({ status: 'Failed', rollback: 'failed', failureReason: 'error', lastSequence: 9 });
    expect(expectedRow(events('x', ['CommandRejected', 0, { command: 'CancelTask', code: 'TASK_NOT_FOUND' }]))).toBeUndefined();
  });

  it('passes rows that match their whole history', () => {
    expect(projectionMatchesLog(histories, good)).toEqual([]);
  });

  it('reports a row left behind (stuck before the last events) and a wrong status', () => {
    const behind = [{ ...good[0]!, status: 'InProgress', lastSequence: 3 }, { ...good[1]!, rollback: 'running' }];
    expect(projectionMatchesLog(histories, behind)).toEqual([
      'projection says task done is InProgress, rollback -, last sequence 3; the log says Completed, rollback -, last sequence 5',
      'projection says task undone is Failed (error), rollback running, last sequence 7; the log says Failed (error), rollback done, last sequence 7',
    ]);
  });

  it('reports a task without a row and a row without a task', () => {
    expect(projectionMatchesLog(histories, [good[0]!, { id: 'ghost', status: 'Completed', rollback: null, failureReason: null, lastSequence: 1 }])).toEqual([
      'projection lacks task undone; the log says Failed (error), rollback done, last sequence 7',
      'projection has task ghost, which is not in task.events',
    ]);
  });

  it('reports an event missing from the projected history, one with another type, and one the log never had', () => {
    const all = [...histories].flatMap(([taskId, list]) => list.map((e) => ({ taskId, sequence: e.sequence, type: e.type })));
    expect(historyMatchesLog(histories, all)).toEqual([]);
    const broken = [...all.filter((e) => !(e.taskId === 'done' && e.sequence === 5)), { taskId: 'undone', sequence: 8, type: 'RollbackDispatched' }, { taskId: 'nobody', sequence: 0, type: 'CommandRejected' }].map((e) => (e.taskId === 'undone' && e.sequence === 7 ? { ...e, type: 'RollbackFailed' } : e));
    expect(historyMatchesLog(histories, broken)).toEqual([
      'task_events lacks event 5 (TaskCompleted) of task done',
      'task_events has event 7 of task undone as RollbackFailed; the log says RollbackSucceeded',
      'task_events has event undone #8, which is not in task.events',
    ]);
  });
});

// Invariant 1 of the chaos suite on hand-made histories: the outcome is the last end of
// a task's rollback, so a rollback a late result reopened and that was then given up is
// counted as given up (listed for an operator), not as rolled back, and one still running
// again is no outcome at all.
import { describe, expect, it } from 'vitest';
import { exactlyOneOutcome } from '../../chaos/support/invariants.js';
import { outcomeOf } from '../../support/consistency.js';
import { completed, events, loadTask, rolledBack, type Step } from './histories.js';

const reopened: Step[] = [['RollbackDispatched', 100, { rollbackAttempt: 2 }]];
const givenUp: Step[] = [['RollbackFailed', 200, { rollbackAttempt: 2, message: 'no', retryAt: null }]];

describe('chaos invariant 1: exactly one outcome', () => {
  it('counts a rollback given up after a late result reopened it as given up', () => {
    const history = events('t1', ...rolledBack, ...reopened, ...givenUp);
    expect(outcomeOf(history)).toBe('rollback-failed');
    const tally = exactlyOneOutcome([loadTask('t1')], new Map([['t1', history]]));
    expect(tally).toMatchObject({ violations: [], rolledBack: 0, rollbackGivenUp: ['t1'], rollbackGivenUpAfterReopen: ['t1'] });
  });

  it('tells a rollback given up at once from one given up after a reopen', () => {
    const history = events('t2', ...rolledBack.slice(0, 6), ['RollbackFailed', 6, { rollbackAttempt: 1, message: 'no', retryAt: null }]);
    const tally = exactlyOneOutcome([loadTask('t2')], new Map([['t2', history]]));
    expect(tally).toMatchObject({ violations: [], rollbackGivenUp: ['t2'], rollbackGivenUpAfterReopen: [] });
  });

  it('reports a task whose reopened rollback is still running as never ended', () => {
    const history = events('t3', ...rolledBack, ...reopened);
    expect(outcomeOf(history)).toBeUndefined();
    const tally = exactlyOneOutcome([loadTask('t3')], new Map([['t3', history]]));
    expect(tally.violations).toEqual([expect.stringContaining('task t3 (probe-ok #1) failed but its rollback never ended')]);
  });

  it('counts a reopened rollback that succeeded again as rolled back, and a completion as completed', () => {
    const again = events('t4', ...rolledBack, ...reopened, ['RollbackSucceeded', 300, { rollbackAttempt: 2 }]);
    const tally = exactlyOneOutcome([loadTask('t4'), loadTask('t5')], new Map([['t4', again], ['t5', events('t5', ...completed)]]));
    expect(tally).toMatchObject({ violations: [], completed: 1, rolledBack: 1, rollbackGivenUp: [] });
  });

  it('counts a task the broker shed (TaskRejected OVERLOADED, nothing after but refused commands) as shed, and any other rejection or a shed task that ran as a violation', () => {
    const shed: Step = ['TaskRejected', 0, { code: 'OVERLOADED', message: 'shedding' }];
    const histories = new Map([
      ['r1', events('r1', shed)],
      ['r2', events('r2', shed, ['CommandRejected', 5, { command: 'CancelTask', code: 'TASK_NOT_CANCELLABLE', message: 'rejected' }])],
      ['r3', events('r3', ['TaskRejected', 0, { code: 'INVALID_PAYLOAD', message: 'bad' }])],
      ['r4', events('r4', shed, ['TaskSubmitted', 5])],
    ]);
    const tally = exactlyOneOutcome(['r1', 'r2', 'r3', 'r4'].map((id) => loadTask(id)), histories);
    expect(tally.shedByTheBroker).toBe(2);
    expect(tally.violations).toEqual([expect.stringContaining('task r3 (probe-ok #1) has 0 TaskCompleted and 0 TaskFailed: TaskRejected'), expect.stringContaining('task r4 (probe-ok #1) was shed by the broker but has more history: TaskRejected TaskSubmitted')]);
  });

  it('reports two outcomes, a gap in the sequence and a task never accepted', () => {
    const twice = events('t6', ...completed, ['TaskFailed', 9, { reason: 'error' }]);
    const gap = events('t7', ...completed).map((e, i) => (i === 2 ? { ...e, sequence: 9 } : e));
    const tally = exactlyOneOutcome([loadTask('t6'), loadTask('t7'), loadTask('t8', { accepted: false, tries: 4 })], new Map([['t6', twice], ['t7', gap]]));
    expect(tally.violations).toEqual([
      expect.stringContaining('t6 (probe-ok #1) has 1 TaskCompleted and 1 TaskFailed'),
      expect.stringContaining('t7 (probe-ok #1) has event sequences 1,2,9,4,5'),
      'task t8 (probe-ok #1) was never accepted after 4 tries (last answer: none)',
    ]);
  });

  it('counts a task the API shed as shed, not lost, but still judges one that reached Kafka anyway', () => {
    const overloaded = '/tasks answered 503 OVERLOADED: {"code":"OVERLOADED"}';
    const shed = loadTask('t9', { accepted: false, tries: 240, route: 'api', lastTransient: overloaded });
    const unavailable = loadTask('t10', { accepted: false, tries: 240, route: 'api', lastTransient: '/tasks: fetch failed' });
    const shedButRanTwice = loadTask('t11', { accepted: false, tries: 3, route: 'api', lastTransient: overloaded });
    const twice = events('t11', ...completed, ['TaskFailed', 9, { reason: 'error' }]);
    const tally = exactlyOneOutcome([shed, unavailable, shedButRanTwice], new Map([['t11', twice]]));
    expect(tally.shed).toBe(2);
    expect(tally.violations).toEqual([
      'task t10 (probe-ok #1) was never accepted after 240 tries (last answer: /tasks: fetch failed)',
      expect.stringContaining('t11 (probe-ok #1) has 1 TaskCompleted and 1 TaskFailed'),
    ]);
  });
});

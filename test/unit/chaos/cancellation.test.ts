// The chaos suite's cancellation check on hand-made histories: a cancelled task must
// fail with reason `cancelled` and roll back; a task that completed first must show the
// cancel's rejection after its completion; a cancel that failed is a violation.
import { describe, expect, it } from 'vitest';
import { cancellationsHeld } from '../../chaos/support/cancellation.js';
import type { CancelRecord } from '../../chaos/support/load.js';
import { completed, events, loadTask, type Step } from './histories.js';

const answered: CancelRecord = { requestedAt: 0, tries: 1, answer: 'accepted', transient: [] };
const cancelTask = (id: string, cancel: CancelRecord = answered) => loadTask(id, { scenario: 'probe-cancel', cancel });
const cancelledRun: Step[] = [['TaskSubmitted', 0], ['AttemptDispatched', 1], ['AttemptStarted', 2], ['AttemptFailed', 500, { reason: 'cancelled', retryAt: null }], ['TaskFailed', 500, { reason: 'cancelled' }], ['RollbackDispatched', 501]];
const notCancellable: Step = ['CommandRejected', 900, { command: 'CancelTask', code: 'TASK_NOT_CANCELLABLE', message: 'already completed' }];

describe('chaos cancellation check', () => {
  it('passes a cancelled task rolled back, and one that completed before the cancel came', () => {
    const histories = new Map([
      ['c1', events('c1', ...cancelledRun, ['RollbackSucceeded', 600])],
      ['c2', events('c2', ...completed, notCancellable)],
    ]);
    expect(cancellationsHeld([cancelTask('c1'), cancelTask('c2'), loadTask('other')], histories)).toEqual({ violations: [], sent: 2, cancelled: 1, completedFirst: 1, failedFirst: 0, shedFirst: 0, transientAnswers: 0 });
  });

  it('passes a task the broker shed before the cancel came, when the log refuses the cancel; reports one whose log does not', () => {
    const shed: Step = ['TaskRejected', 0, { code: 'OVERLOADED', message: 'the broker is shedding load' }];
    const histories = new Map([
      ['s1', events('s1', shed, ['CommandRejected', 5, { command: 'CancelTask', code: 'TASK_NOT_CANCELLABLE', message: 'the task was rejected' }])],
      ['s2', events('s2', shed)],
    ]);
    const result = cancellationsHeld([cancelTask('s1'), cancelTask('s2')], histories);
    expect(result).toMatchObject({ shedFirst: 1, cancelled: 0 });
    expect(result.violations).toEqual([expect.stringContaining('task s2 (probe-cancel #1, kafka) was shed by the broker, but the log shows no refusal of its cancel')]);
  });

  it('reports a cancelled task whose rollback did not end done', () => {
    const histories = new Map([['c3', events('c3', ...cancelledRun, ['RollbackFailed', 600, { retryAt: null }])]]);
    expect(cancellationsHeld([cancelTask('c3')], histories).violations).toEqual([expect.stringContaining('was cancelled but its rollback ended rollback-failed')]);
  });

  it('reports a cancel the log never shows: the task completed and nothing rejected the cancel', () => {
    const histories = new Map([['c4', events('c4', ...completed)]]);
    expect(cancellationsHeld([cancelTask('c4')], histories).violations).toEqual([expect.stringContaining('cancel answered accepted but the task ended Completed and the log shows no rejection of the cancel after that (rejections: none)')]);
  });

  it('reports a cancel that failed or was never answered, and counts retried answers', () => {
    const failed = cancelTask('c5', { requestedAt: 0, tries: 3, transient: ['a', 'b'], error: 'cancel answered /tasks/c5/cancel answered 500' });
    const result = cancellationsHeld([failed], new Map([['c5', events('c5', ...completed)]]));
    expect(result.violations).toEqual(['task c5 (probe-cancel #1, kafka): cancel answered /tasks/c5/cancel answered 500']);
    expect(result.transientAnswers).toBe(2);
  });
});

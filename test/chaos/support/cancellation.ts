// Cancellation, checked against the log: a task the load cancelled ends Failed with
// reason `cancelled` and its rollback done, unless it had already ended when the cancel
// arrived — then the log holds the cancel's rejection (TASK_NOT_CANCELLABLE) after that
// end. A cancel the load could not get answered is a violation, not a shrug.
import { outcomeOf } from '../../support/consistency.js';
import type { Histories } from './invariants.js';
import { shedByTheBroker, type SubmittedTask } from './load.js';

export interface CancellationResult {
  violations: string[];
  sent: number;
  cancelled: number;
  completedFirst: number;
  /** Tasks that had failed for another reason before the cancel arrived. */
  failedFirst: number;
  /** Tasks the broker refused while shedding load: the cancel found nothing to cancel. */
  shedFirst: number;
  /** "Try again later" answers the load retried (faults in the way). */
  transientAnswers: number;
}

export function cancellationsHeld(tasks: readonly SubmittedTask[], histories: Histories): CancellationResult {
  const result: CancellationResult = { violations: [], sent: 0, cancelled: 0, completedFirst: 0, failedFirst: 0, shedFirst: 0, transientAnswers: 0 };
  for (const task of tasks) {
    const cancel = task.cancel;
    if (cancel === undefined) continue;
    result.sent += 1;
    result.transientAnswers += cancel.transient.length;
    const label = `task ${task.taskId} (${task.scenario} #${task.n}, ${task.route})`;
    if (cancel.error !== undefined) {
      result.violations.push(`${label}: ${cancel.error}`);
      continue;
    }
    const events = histories.get(task.taskId) ?? [];
    const types = events.map((e) => e.type).join(' ');
    const failed = events.findIndex((e) => e.type === 'TaskFailed');
    const completed = events.findIndex((e) => e.type === 'TaskCompleted');
    const rejections = events.flatMap((e, i) => (e.type === 'CommandRejected' && e.body.command === 'CancelTask' ? [{ at: i, code: e.body.code }] : []));
    if (shedByTheBroker(events)) {
      if (rejections.some((r) => r.code === 'TASK_NOT_CANCELLABLE')) result.shedFirst += 1;
      else result.violations.push(`${label} was shed by the broker, but the log shows no refusal of its cancel: ${types}`);
      continue;
    }
    const failure = failed >= 0 ? events[failed] : undefined;
    if (failure?.type === 'TaskFailed' && failure.body.reason === 'cancelled') {
      result.cancelled += 1;
      const outcome = outcomeOf(events);
      if (outcome !== 'rolled-back') result.violations.push(`${label} was cancelled but its rollback ${outcome === undefined ? 'never ended' : `ended ${outcome}`}: ${types}`);
      continue;
    }
    // Not cancelled: the task must have ended first, and the log must say the cancel came too late.
    const endedAt = completed >= 0 ? completed : failed;
    const tooLate = rejections.find((r) => r.at > endedAt && r.code === 'TASK_NOT_CANCELLABLE');
    if (endedAt < 0) result.violations.push(`${label} was cancelled (answer: ${cancel.answer}) but never ended: ${types}`);
    else if (tooLate === undefined) {
      const seen = rejections.map((r) => `${r.code} at event ${r.at + 1}`).join(', ') || 'none';
      result.violations.push(`${label}: cancel answered ${cancel.answer} but the task ended ${completed >= 0 ? 'Completed' : `Failed (${failure?.type === 'TaskFailed' ? failure.body.reason : '?'})`} and the log shows no rejection of the cancel after that (rejections: ${seen}): ${types}`);
    } else if (completed >= 0) result.completedFirst += 1;
    else result.failedFirst += 1;
  }
  return result;
}

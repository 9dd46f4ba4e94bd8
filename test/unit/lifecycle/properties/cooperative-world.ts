// After any history, a world that stops misbehaving: workers answer every work order with
// success (`successes`), or nobody answers and only the timer fires (`ticks`); the timer
// always fires exactly at nextDeadline(state), as the runtime schedules it.
import { nextDeadline, type TaskState } from '../../../../processors/lifecycle/index.js';
import type { SubmitTask } from '../../../../schemas/index.js';
import { result, submit, tick } from '../fixtures.js';
import type { Run } from './harness.js';
import { show } from './show.js';

export type World = 'successes' | 'ticks';

/** The task has an answer that no time and no success can change any more. */
export function settled(state: TaskState): boolean {
  if (state.phase === 'Rejected') return true;
  if (state.phase !== 'Live') return false;
  return state.status === 'Completed' || (state.status === 'Failed' && (state.rollback === 'done' || state.rollback === 'failed'));
}

function tickAtDeadline(run: Run, label: string): void {
  const due = nextDeadline(run.state);
  if (due !== null && !Number.isSafeInteger(due)) run.fail(run.records.length - 1, `nextDeadline is ${due}: no timer can be set`);
  run.apply(tick, due === null ? run.now : Math.max(run.now, due), label);
}

/** One move of the cooperative world. */
export function cooperate(run: Run, world: World): void {
  const { state } = run;
  if (world === 'successes' && state.phase === 'Live') {
    const running = state.status === 'Available' || state.status === 'InProgress';
    if (running && state.attemptDeadlineAt !== null) {
      run.apply(result('AttemptSucceeded', { attempt: state.attempt, workerId: 'good', output: '"ok"' }), run.now, 'world: attempt succeeds');
      return;
    }
    if (state.status === 'Failed' && state.rollback === 'running') {
      run.apply(result('RollbackSucceeded', { rollbackAttempt: state.rollbackAttempt, workerId: 'good' }), run.now, 'world: rollback succeeds');
      return;
    }
  }
  tickAtDeadline(run, 'world: tick at nextDeadline');
}

export interface Outcome {
  /** Cooperative steps taken until settled (Infinity if never within the bound). */
  stepsToSettle: number;
  /** Ticks at nextDeadline taken after settling until the task left processor state. */
  stepsToExpunge: number;
}

/**
 * Brings the task to an answer (submitting `body` first if there is no task), then lets
 * the expunge timer run. Fails the property when either does not happen within `bound`.
 */
export function cooperateToTheEnd(run: Run, world: World, body: SubmitTask, bound: number): Outcome {
  if (run.state.phase === 'Absent') run.apply(submit(body), run.now, 'world: submit');
  let stepsToSettle = 0;
  while (!settled(run.state)) {
    if (stepsToSettle === bound) run.fail(run.records.length - 1, `not settled after ${bound} cooperative steps (world: ${world})`);
    cooperate(run, world);
    stepsToSettle += 1;
  }
  let stepsToExpunge = 0;
  while (run.state.phase !== 'Absent' && nextDeadline(run.state) !== null) {
    if (stepsToExpunge === bound) run.fail(run.records.length - 1, `not expunged after ${bound} ticks at nextDeadline`);
    tickAtDeadline(run, 'world: tick at nextDeadline (expunge)');
    stepsToExpunge += 1;
  }
  const { state } = run;
  const waitsForOperator = state.phase === 'Live' && state.status === 'Failed' && state.rollback === 'failed';
  if (state.phase !== 'Absent' && !waitsForOperator) {
    run.fail(run.records.length - 1, `settled but never expunged: nextDeadline is ${show(nextDeadline(state), 'dueAt')}`);
  }
  return { stepsToSettle, stepsToExpunge };
}

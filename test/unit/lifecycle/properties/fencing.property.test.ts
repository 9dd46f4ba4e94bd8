// Invariant 5: the attempt number is the fencing token. Which attempt is current is tracked
// here from the emitted events alone (not from the decider's own fields): the last attempt
// dispatched, until it succeeds, fails or the task ends; the same for rollback attempts.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { LifecycleEvent } from '../../../../processors/lifecycle/index.js';
import { scenarioArb } from './arbitraries.js';
import { assertProperty } from './config.js';
import { play, type Run, type StepRecord } from './harness.js';
import { describeInput } from './steps.js';

const RUNS = 400;

interface Fences {
  /** Last attempt dispatched in this incarnation (0 = none). */
  attempt: number;
  /** It may still report: neither finished nor fenced by the task ending. */
  attemptOpen: boolean;
  /** Its start (or a heartbeat or progress) has been recorded. */
  attemptSeenStarted: boolean;
  rollbackAttempt: number;
  rollbackOpen: boolean;
}

const noFences: Fences = { attempt: 0, attemptOpen: false, attemptSeenStarted: false, rollbackAttempt: 0, rollbackOpen: false };

function follow(fences: Fences, event: LifecycleEvent): Fences {
  switch (event.type) {
    case 'TaskSubmitted':
    case 'TaskRejected':
    case 'TaskExpunged':
      return noFences;
    case 'AttemptDispatched':
      return { ...fences, attempt: event.body.attempt, attemptOpen: true, attemptSeenStarted: false };
    case 'AttemptStarted':
      return { ...fences, attemptSeenStarted: true };
    case 'AttemptSucceeded':
    case 'AttemptFailed':
    case 'TaskCompleted':
    case 'TaskFailed':
      return { ...fences, attemptOpen: false };
    case 'RollbackDispatched':
      return { ...fences, rollbackAttempt: event.body.rollbackAttempt, rollbackOpen: true };
    case 'RollbackSucceeded':
    case 'RollbackFailed':
      return { ...fences, rollbackOpen: false };
    case 'AttemptProgressed':
    case 'RollbackRetryRequested':
    case 'CommandRejected':
    case 'ReplyUndelivered':
      return fences;
  }
}

function checkStale(run: Run, record: StepRecord, fences: Fences): void {
  const { input } = record;
  if (input.type !== 'result') return;
  const message = input.message;
  const isRollback = message.type === 'RollbackSucceeded' || message.type === 'RollbackFailed';
  const number = message.type === 'RollbackSucceeded' || message.type === 'RollbackFailed' ? message.body.rollbackAttempt : message.body.attempt;
  const current = isRollback ? fences.rollbackOpen && number === fences.rollbackAttempt : fences.attemptOpen && number === fences.attempt;
  if (current) return;

  const failed = record.before.phase === 'Live' && record.before.status === 'Failed';
  // Rule 9: a worker that ran after the task failed gets its changes undone by a new rollback.
  const lateSuccess = failed && message.type === 'AttemptSucceeded' && number >= 1 && number <= fences.attempt;
  const lateStart = failed && message.type === 'AttemptStarted' && number === fences.attempt && !fences.attemptSeenStarted;
  const events = record.events.map((event) => event.type).join(', ') || 'nothing';
  const what = `stale ${describeInput(input)} (current: attempt ${fences.attemptOpen ? fences.attempt : 'none'}, rollback ${fences.rollbackOpen ? fences.rollbackAttempt : 'none'})`;

  if (lateSuccess || lateStart) {
    if (events !== 'RollbackDispatched' && (lateSuccess || events !== 'nothing')) {
      run.fail(record.index, `${what} on a Failed task should re-dispatch the rollback, emitted ${events}`);
    }
    return;
  }
  if (record.events.length > 0) run.fail(record.index, `${what} emitted ${events}`);
  if (record.after !== record.before) run.fail(record.index, `${what} changed the state`);
}

function checkFencing(run: Run): void {
  let fences = noFences;
  for (const record of run.records) {
    checkStale(run, record, fences);
    fences = record.events.reduce(follow, fences);
  }
}

describe('lifecycle properties: fencing', () => {
  it('5. a result for an attempt that is not the current one changes nothing, except a late success or start re-running a failed task\'s rollback', () => {
    assertProperty(fc.property(scenarioArb(), (scenario) => checkFencing(play(scenario))), RUNS);
  });
});

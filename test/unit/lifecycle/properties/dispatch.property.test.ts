// Invariant 6: work orders. Each dispatch event yields exactly one matching work order and
// nothing else does; attempts are numbered 1, 2, … and never beyond the task's maxAttempts.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { Effect } from '../../../../processors/lifecycle/index.js';
import { scenarioArb } from './arbitraries.js';
import { assertProperty } from './config.js';
import { beforeEvent, play, type Run } from './harness.js';
import { show } from './show.js';

const RUNS = 400;

type Dispatch = Extract<Effect, { type: 'dispatch' }>;

function checkDispatches(run: Run): void {
  for (const record of run.records) {
    record.events.forEach((event, i) => {
      const produced = record.effects[i] ?? [];
      const dispatches = produced.filter((effect): effect is Dispatch => effect.type === 'dispatch');
      const expunges = produced.filter((effect) => effect.type === 'expunge');
      const from = beforeEvent(record, i);
      const after = record.states[i];
      const wrong = (what: string): never => run.fail(record.index, `${event.type}${show(event.body)} ${what}; effects ${show(produced)}`);

      if (expunges.length !== (event.type === 'TaskExpunged' ? 1 : 0)) wrong('has the wrong number of expunge effects');
      if (event.type === 'AttemptDispatched') {
        const order = dispatches[0]?.body;
        if (dispatches.length !== 1 || order?.type !== 'RunAttempt') wrong('did not produce exactly one RunAttempt');
        else if (order.body.attempt !== event.body.attempt || order.body.deadlineAt !== event.body.deadlineAt) wrong('disagrees with its RunAttempt');
        if (from.phase !== 'Live' || after?.phase !== 'Live') return wrong('applied to a task that is not live');
        if (event.body.attempt !== from.attempt + 1) wrong(`follows attempt ${from.attempt}`);
        if (event.body.attempt > after.task.maxAttempts) wrong(`exceeds maxAttempts ${after.task.maxAttempts}`);
        if (event.body.deadlineAt > after.deadlineAt) wrong('outlives the task deadline');
      } else if (event.type === 'RollbackDispatched') {
        const order = dispatches[0]?.body;
        if (dispatches.length !== 1 || order?.type !== 'RunRollback') wrong('did not produce exactly one RunRollback');
        else if (order.body.rollbackAttempt !== event.body.rollbackAttempt || order.body.deadlineAt !== event.body.deadlineAt) {
          wrong('disagrees with its RunRollback');
        } else if (after?.phase !== 'Live' || order.body.failedAttempt !== after.attempt) wrong('names the wrong failed attempt');
      } else if (dispatches.length > 0) {
        wrong('dispatched work');
      }
    });
    const { after } = record;
    if (after.phase === 'Live' && after.attempt > after.task.maxAttempts) {
      run.fail(record.index, `attempt ${after.attempt} exceeds maxAttempts ${after.task.maxAttempts}`);
    }
  }
}

describe('lifecycle properties: dispatch', () => {
  it('6. each AttemptDispatched / RollbackDispatched gives exactly one matching work order; attempts never exceed maxAttempts', () => {
    assertProperty(fc.property(scenarioArb(), (scenario) => checkDispatches(play(scenario))), RUNS);
  });
});

// Invariant 4: terminal statuses stay terminal; a finished rollback is only reopened by a
// new dispatch; rollback attempt numbers only grow.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { positionOf, type TaskState } from '../../../../processors/lifecycle/index.js';
import { scenarioArb } from './arbitraries.js';
import { assertProperty } from './config.js';
import { beforeEvent, play, type Run } from './harness.js';

const RUNS = 400;

const statusOf = (state: TaskState): string => (state.phase === 'Live' ? state.status : state.phase);
const rollbackOf = (state: TaskState): string | null => (state.phase === 'Live' ? state.rollback : null);

function checkTerminal(run: Run): void {
  let highestRollback = 0;
  for (const record of run.records) {
    record.events.forEach((event, i) => {
      const from = beforeEvent(record, i);
      const to = record.states[i] ?? from;
      const move = `${event.type} moved ${positionOf(from)} → ${positionOf(to)}`;
      const expunged = event.type === 'TaskExpunged' && to.phase === 'Absent';
      if (statusOf(from) === 'Completed' && statusOf(to) !== 'Completed' && !expunged) run.fail(record.index, `left Completed: ${move}`);
      if (statusOf(from) === 'Failed' && statusOf(to) !== 'Failed' && !expunged) run.fail(record.index, `left Failed: ${move}`);
      if (rollbackOf(from) === 'done' && rollbackOf(to) !== 'done' && !expunged && event.type !== 'RollbackDispatched') {
        run.fail(record.index, `left rollback done without a new dispatch: ${move}`);
      }
      if (event.type === 'RollbackDispatched') {
        if (event.body.rollbackAttempt <= highestRollback) {
          run.fail(record.index, `RollbackDispatched #${event.body.rollbackAttempt} after #${highestRollback}`);
        }
        highestRollback = event.body.rollbackAttempt;
      }
      if (expunged) highestRollback = 0;
    });
  }
}

describe('lifecycle properties: terminal statuses', () => {
  it('4. Completed and Failed are final until expunged; done reopens only by a new, higher RollbackDispatched', () => {
    assertProperty(fc.property(scenarioArb(), (scenario) => checkTerminal(play(scenario))), RUNS);
  });
});

// Invariants 2 and 3: envelope numbering and the single outcome of each incarnation.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { sequenceOf } from '../../../../processors/lifecycle/index.js';
import { scenarioArb } from './arbitraries.js';
import { assertProperty } from './config.js';
import { beforeEvent, play, type Run } from './harness.js';

const RUNS = 400;

/**
 * Each event is numbered one past the previous one of the same incarnation (a task expunged
 * and submitted again starts over at 1). The one exception the README names: a CommandRejected
 * about a task that does not exist is numbered 0 and moves nothing.
 */
function checkSequences(run: Run): void {
  let last = 0;
  for (const record of run.records) {
    if (sequenceOf(record.before) !== last) {
      run.fail(record.index, `state sequence ${sequenceOf(record.before)} is not the last event's ${last}`);
    }
    record.events.forEach((event, i) => {
      const sequence = record.sequences[i];
      if (event.type === 'CommandRejected' && beforeEvent(record, i).phase === 'Absent') {
        if (sequence !== 0) run.fail(record.index, `CommandRejected about an absent task numbered ${sequence}, not 0`);
        return;
      }
      if (sequence !== last + 1) run.fail(record.index, `${event.type} numbered ${sequence} after ${last}`);
      last = event.type === 'TaskExpunged' ? 0 : sequence;
    });
  }
}

/** At most one TaskCompleted per incarnation, and never a TaskCompleted and a TaskFailed in the same one. */
function checkOutcomes(run: Run): void {
  let completed = 0;
  let failed = 0;
  for (const record of run.records) {
    for (const event of record.events) {
      if (event.type === 'TaskCompleted') completed += 1;
      if (event.type === 'TaskFailed') failed += 1;
      if (completed > 1) run.fail(record.index, 'a second TaskCompleted');
      if (failed > 1) run.fail(record.index, 'a second TaskFailed');
      if (completed > 0 && failed > 0) run.fail(record.index, 'both TaskCompleted and TaskFailed');
      if (event.type === 'TaskExpunged') {
        completed = 0;
        failed = 0;
      }
    }
  }
}

describe('lifecycle properties: numbering and outcomes', () => {
  it('2. event sequence numbers rise by exactly one per event within an incarnation', () => {
    assertProperty(fc.property(scenarioArb(), (scenario) => checkSequences(play(scenario))), RUNS);
  });

  it('3. at most one TaskCompleted per incarnation, never together with a TaskFailed', () => {
    assertProperty(fc.property(scenarioArb(), (scenario) => checkOutcomes(play(scenario))), RUNS);
  });
});

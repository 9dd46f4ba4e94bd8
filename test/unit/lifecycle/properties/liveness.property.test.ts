// Invariant 9: liveness. Whatever happened before, once the world cooperates the task gets
// its answer (Completed, or Failed with the rollback done or given up) within a bounded
// number of steps, and then leaves processor state (unless an operator must look at it).
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { scenarioArb, printableSubmitArb } from './arbitraries.js';
import { assertProperty } from './config.js';
import { cooperateToTheEnd, type World } from './cooperative-world.js';
import { play } from './harness.js';

const RUNS = 300;
const BOUND = 200;

describe('lifecycle properties: liveness', () => {
  const worlds: Array<[World, string]> = [
    ['successes', 'workers answer every work order with success'],
    ['ticks', 'nobody answers, only the timer fires at nextDeadline'],
  ];
  for (const [world, what] of worlds) {
    it(`9. after any history, when ${what}, the task settles within ${BOUND} steps, then is expunged (unless its rollback failed)`, () => {
      assertProperty(
        fc.property(scenarioArb(), printableSubmitArb, (scenario, body) => {
          const run = play(scenario);
          cooperateToTheEnd(run, world, body, BOUND);
        }),
        RUNS,
      );
    });
  }
});

// Invariant 8: the timer. Early, needless and duplicate ticks are harmless; and the tick
// the runtime schedules at nextDeadline always has something to do (else it would be
// rescheduled at the same time forever: a busy loop).
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { decide, foldEvents, nextDeadline, type LifecycleEvent, type TaskState } from '../../../../processors/lifecycle/index.js';
import { kinds, limits, tick } from '../fixtures.js';
import { scenarioArb } from './arbitraries.js';
import { assertProperty } from './config.js';
import { play, type Run, type StepRecord } from './harness.js';
import { show, showEvent } from './show.js';

const RUNS = 300;
const TEN_YEARS_MS = 10 * 365 * 24 * 3_600_000;

type Check = (run: Run, record: StepRecord) => void;

function tickAt(run: Run, state: TaskState, now: number): LifecycleEvent[] {
  return decide(tick, state, { now, kinds, defaults: run.defaults, limits });
}

function mustBeQuiet(run: Run, record: StepRecord, now: number, why: string): void {
  const events = tickAt(run, record.after, now);
  if (events.length > 0) run.fail(record.index, `${why}: a tick at ${show(now, 'nowAt')} emitted ${events.map(showEvent).join(', ')}`);
}

/** The deadline after the step: null, or an integer time (anything else cannot be scheduled). */
function deadlineOf(run: Run, record: StepRecord): number | null {
  const due = nextDeadline(record.after);
  if (due !== null && !Number.isSafeInteger(due)) run.fail(record.index, `nextDeadline is ${due}, not a time`);
  return due;
}

const earlyTicks: Check = (run, record) => {
  const due = deadlineOf(run, record);
  if (due === null || due <= record.now) return;
  mustBeQuiet(run, record, record.now, `nextDeadline is ${show(due, 'dueAt')}`);
  mustBeQuiet(run, record, due - 1, `nextDeadline is ${show(due, 'dueAt')}`);
};

const noDeadlineTicks: Check = (run, record) => {
  if (deadlineOf(run, record) !== null) return;
  mustBeQuiet(run, record, record.now, 'nextDeadline is null');
  mustBeQuiet(run, record, record.now + TEN_YEARS_MS, 'nextDeadline is null');
};

/**
 * A tick repeated at the same time emits nothing, unless the first one left something due
 * at that very time (a zero backoff: the retry is due at once), which the runtime would
 * schedule anyway; even then, ticking on at that time settles within a few ticks.
 */
const duplicateTicks: Check = (run, record) => {
  if (record.input.type !== 'tick') return;
  const due = deadlineOf(run, record);
  if (due === null || due > record.now) return mustBeQuiet(run, record, record.now, 'the same tick again');
  let state = record.after;
  for (let repeat = 0; repeat < 10; repeat += 1) {
    const events = tickAt(run, state, record.now);
    if (events.length === 0) return;
    state = foldEvents(state, events, record.now, run.defaults).state;
  }
  run.fail(record.index, `ticks repeated at ${show(record.now, 'nowAt')} never settle`);
};

const dueTicksAct: Check = (run, record) => {
  const due = deadlineOf(run, record);
  if (due === null) return;
  const now = Math.max(record.now, due);
  if (tickAt(run, record.after, now).length === 0) {
    run.fail(record.index, `the tick at nextDeadline ${show(due, 'dueAt')} (now ${show(now, 'nowAt')}) does nothing: a busy loop`);
  }
};

function everyStep(check: Check): (run: Run) => void {
  return (run) => run.records.forEach((record) => check(run, record));
}

describe('lifecycle properties: ticks', () => {
  const cases: Array<[string, (run: Run) => void]> = [
    ['8. a tick before nextDeadline(state) emits nothing', everyStep(earlyTicks)],
    ['8. a tick when nextDeadline(state) is null emits nothing, however late', everyStep(noDeadlineTicks)],
    ['8. the same tick twice at the same time: the second emits nothing (unless the first left something due then)', everyStep(duplicateTicks)],
    ['8. a tick at nextDeadline(state) always emits something (no busy loop)', everyStep(dueTicksAct)],
  ];
  for (const [name, check] of cases) {
    it(name, () => {
      assertProperty(fc.property(scenarioArb(), (scenario) => check(play(scenario))), RUNS);
    });
  }
});

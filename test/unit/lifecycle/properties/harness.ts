// Drives one task through decide → foldEvents → effects, exactly as README.md tells an
// adapter to, and records every step so the invariants can be checked afterwards and a
// failure can print the whole history it happened in.
import {
  decide,
  effects,
  evolve,
  foldEvents,
  initialState,
  type Effect,
  type LifecycleDefaults,
  type LifecycleEvent,
  type LifecycleInput,
  type TaskState,
} from '../../../../processors/lifecycle/index.js';
import { kinds, limits, T0 } from '../fixtures.js';
import { show, showDefaults, showEvent, showState } from './show.js';
import { describeInput, describeStep, resolveStep, type Step } from './steps.js';

export interface Scenario {
  /** Passed to decide and to foldEvents alike. */
  defaults: LifecycleDefaults;
  steps: Step[];
}

export interface StepRecord {
  index: number;
  /** The generated step, or what the cooperative world did. */
  label: string;
  now: number;
  input: LifecycleInput;
  before: TaskState;
  events: LifecycleEvent[];
  /** Envelope sequence of each event, from foldEvents. */
  sequences: number[];
  /** The state right after each event (what effects are computed against). */
  states: TaskState[];
  after: TaskState;
  effects: Effect[][];
}

/** Deep-freezes what the decider is handed, so any mutation of its input throws. */
function freeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) freeze(item);
  }
  return value;
}

export class Run {
  readonly records: StepRecord[] = [];
  state: TaskState = initialState;
  now = T0;

  constructor(readonly defaults: LifecycleDefaults) {}

  /** Resolves a generated step against the current state and applies it. */
  step(step: Step): StepRecord {
    const { now, input } = resolveStep(step, this.state, this.now);
    return this.apply(input, now, describeStep(step));
  }

  /** decide, fold, effects; an exception from any of them fails with the history so far. */
  apply(input: LifecycleInput, now: number, label: string): StepRecord {
    const before = this.state;
    const index = this.records.length;
    const partial = { index, label, now, input, before };
    let stage = 'decide';
    try {
      const events = freeze(decide(input, before, { now, kinds, defaults: this.defaults, limits }));
      stage = 'foldEvents';
      const { state: after, sequences } = foldEvents(before, events, now, this.defaults);
      freeze(after);
      stage = 'evolve';
      const states: TaskState[] = [];
      events.reduce((current, event) => {
        const next = freeze(evolve(current, event, now, this.defaults));
        states.push(next);
        return next;
      }, before);
      stage = 'effects';
      const produced = events.map((event, i) => effects(event, states[i] ?? before, input));
      const record: StepRecord = { ...partial, events, sequences, states, after, effects: produced };
      this.records.push(record);
      this.state = after;
      this.now = now;
      return record;
    } catch (error) {
      const shown = `${stage} threw at step #${index} (${label}) on ${describeInput(input)} at ${show(now, 'nowAt')}: ${(error as Error).message}`;
      throw new Error(`${shown}\n${this.trace()}\n  #${index} ${label}\n     before: ${showState(before)}`, { cause: error });
    }
  }

  /** The history up to step `upTo` (inclusive), one block per step. */
  trace(upTo = this.records.length - 1): string {
    const lines = [`defaults: ${showDefaults(this.defaults)}`];
    for (const record of this.records.slice(0, upTo + 1)) {
      lines.push(`  #${record.index} ${record.label}`);
      lines.push(`     ${show(record.now, 'nowAt')} ${describeInput(record.input)}`);
      record.events.forEach((event, i) => lines.push(`       → [seq ${record.sequences[i]}] ${showEvent(event)}`));
      lines.push(`     = ${showState(record.after)}`);
    }
    return lines.join('\n');
  }

  /** Fails the property with `message`, pointing at step `index` of this run's history. */
  fail(index: number, message: string): never {
    throw new Error(`${message}\n  at step #${index} of:\n${this.trace(index)}`);
  }
}

export function play(scenario: Scenario): Run {
  const run = new Run(scenario.defaults);
  for (const step of scenario.steps) run.step(step);
  return run;
}

/** The state before event `i` of a record. */
export function beforeEvent(record: StepRecord, i: number): TaskState {
  return i === 0 ? record.before : (record.states[i - 1] ?? record.before);
}

// Generators of histories for one task: submissions (mostly valid, some not), cancels,
// operator retries, worker results naming the current, a stale or a future attempt, and
// ticks, each after a clock move (a random step, or exactly to / just before / past the
// next deadline in state).
import fc from 'fast-check';
import { defaultLifecycleDefaults, MAX_DURATION_MS, type LifecycleDefaults } from '../../../../processors/lifecycle/index.js';
import type { Backoff, Origin, SubmitTask } from '../../../../schemas/index.js';
import type { Scenario } from './harness.js';
import { showDefaults, showSubmit } from './show.js';
import { describeStep, type Action, type Clock, type Step } from './steps.js';

/** Attaches a readable rendering for fast-check's counterexample report. */
function printable<T extends object>(value: T, render: (value: T) => string): T {
  return Object.defineProperty(value, fc.toStringMethod, { value: () => render(value), enumerable: false });
}

const nullable = <T>(arbitrary: fc.Arbitrary<T>, freq = 3): fc.Arbitrary<T | null> => fc.option(arbitrary, { nil: null, freq });

/** Ordinary backoffs, plus the edges the options allow: no wait at all, and huge multipliers. */
export const backoffArb: fc.Arbitrary<Backoff> = fc
  .record({
    initialMs: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 5_000 }) }, { weight: 1, arbitrary: fc.constant(0) }),
    multiplier: fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(1, 1.5, 2, 3) },
      { weight: 1, arbitrary: fc.constantFrom(1e200, Number.MAX_VALUE) },
    ),
    spread: fc.integer({ min: 0, max: 60_000 }),
  })
  .map(({ initialMs, multiplier, spread }) => ({ initialMs, multiplier, maxMs: initialMs + spread }));

const originArb: fc.Arbitrary<Origin> = fc.constantFrom<Origin>(
  { type: 'topic', target: 'stackl.reply.replies' },
  { type: 'none', target: null },
  { type: 'webhook', target: 'https://localhost/hook' },
);

/** A submission the decider must accept (when the task id is free). */
export const validSubmitArb: fc.Arbitrary<SubmitTask> = fc.record({
  kind: fc.constant('probe'),
  action: fc.constant('run'),
  payload: fc.constantFrom('{"outcome":"succeed"}', '{"outcome":"fail","rollback":"fail"}', '{"outcome":"hang","durationMs":100}'),
  origin: originArb,
  // null = the task id; the others clash with a task submitted under another key.
  idempotencyKey: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('key-a', 'key-b') }),
  timeoutMs: nullable(fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 2_000, max: 120_000 })), 4),
  attemptTimeoutMs: nullable(fc.integer({ min: 1, max: 30_000 })),
  heartbeatTimeoutMs: nullable(fc.integer({ min: 1, max: 10_000 }), 2),
  maxAttempts: nullable(fc.integer({ min: 1, max: 4 })),
  retryBackoff: nullable(backoffArb),
  rollbackMaxAttempts: nullable(fc.integer({ min: 1, max: 4 })),
  rollbackBackoff: nullable(backoffArb),
});

/** The same, printed as what differs from the fixtures' plain submission. */
export const printableSubmitArb: fc.Arbitrary<SubmitTask> = validSubmitArb.map((body) => printable({ ...body }, (it) => `SubmitTask ${showSubmit(it)}`));

/** One thing wrong with an otherwise valid submission: TaskRejected (or nothing, if the id is taken). */
const invalidations: ReadonlyArray<[note: string, change: Partial<SubmitTask>]> = [
  ['unknown kind', { kind: 'teleport' }],
  ['unknown action', { action: 'fly' }],
  ['payload not JSON', { payload: '{"outcome":' }],
  ['payload off schema', { payload: '{"outcome":"explode"}' }],
  ['maxAttempts 0', { maxAttempts: 0 }],
  ['rollbackMaxAttempts 0', { rollbackMaxAttempts: 0 }],
  ['timeoutMs 0', { timeoutMs: 0 }],
  ['timeoutMs fractional', { timeoutMs: 1.5 }],
  ['timeoutMs beyond a year', { timeoutMs: MAX_DURATION_MS + 1 }],
  ['heartbeatTimeoutMs negative', { heartbeatTimeoutMs: -1 }],
  ['retryBackoff multiplier below 1', { retryBackoff: { initialMs: 10, multiplier: 0.5, maxMs: 100 } }],
  ['retryBackoff multiplier NaN', { retryBackoff: { initialMs: 10, multiplier: Number.NaN, maxMs: 100 } }],
  ['rollbackBackoff maxMs below initialMs', { rollbackBackoff: { initialMs: 100, multiplier: 2, maxMs: 10 } }],
  ['blank idempotencyKey', { idempotencyKey: '   ' }],
  ['topic origin without target', { origin: { type: 'topic', target: null } }],
  ['webhook origin not http', { origin: { type: 'webhook', target: 'ftp://example.test' } }],
];

export const submitActionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: validSubmitArb.map((body): Action => ({ kind: 'submit', body, note: null })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(validSubmitArb, fc.constantFrom(...invalidations))
      .map(([body, [note, change]]): Action => ({ kind: 'submit', body: { ...body, ...change }, note })),
  },
);

/** Mostly the current attempt; sometimes an older one, sometimes one not yet dispatched. */
const offsetArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.integer({ min: -2, max: -1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) },
);

const workerArb = fc.constantFrom('w1', 'w2');

const attemptResultArb: fc.Arbitrary<Action> = fc.record({
  kind: fc.constant('attempt' as const),
  type: fc.constantFrom('AttemptSucceeded', 'AttemptFailed', 'AttemptStarted', 'AttemptHeartbeat', 'AttemptProgress'),
  offset: offsetArb,
  retriable: fc.boolean(),
  workerId: workerArb,
  percent: fc.integer({ min: 0, max: 100 }),
});

const rollbackResultArb: fc.Arbitrary<Action> = fc.record({
  kind: fc.constant('rollback' as const),
  type: fc.constantFrom('RollbackSucceeded', 'RollbackFailed'),
  offset: offsetArb,
  workerId: workerArb,
});

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Action>({ kind: 'tick' }) },
  { weight: 8, arbitrary: attemptResultArb },
  { weight: 4, arbitrary: rollbackResultArb },
  { weight: 1, arbitrary: fc.constant<Action>({ kind: 'cancel' }) },
  { weight: 2, arbitrary: fc.constant<Action>({ kind: 'retryRollback' }) },
  { weight: 1, arbitrary: submitActionArb },
);

export const clockArb: fc.Arbitrary<Clock> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 2_000 }).map((ms): Clock => ({ kind: 'advance', ms })) },
  { weight: 3, arbitrary: fc.constant<Clock>({ kind: 'toDeadline' }) },
  { weight: 1, arbitrary: fc.constant<Clock>({ kind: 'beforeDeadline' }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5_000 }).map((ms): Clock => ({ kind: 'pastDeadline', ms })) },
  { weight: 1, arbitrary: fc.constantFrom(10_000, 60_000, 3_600_000, 86_400_000).map((ms): Clock => ({ kind: 'advance', ms })) },
);

export const stepArb: fc.Arbitrary<Step> = fc
  .record({ clock: clockArb, action: actionArb })
  .map((step) => printable(step, describeStep));

/** Broker defaults: they fill what a submission leaves out; the expunge grace is theirs alone. */
export const defaultsArb: fc.Arbitrary<LifecycleDefaults> = fc.record({
  timeoutMs: fc.constantFrom(defaultLifecycleDefaults.timeoutMs, 20_000, 5_000),
  attemptTimeoutMs: fc.constantFrom(null, 3_000),
  heartbeatTimeoutMs: fc.constantFrom(null, 2_000),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  retryBackoff: fc.oneof(fc.constant(defaultLifecycleDefaults.retryBackoff), backoffArb),
  rollbackMaxAttempts: fc.integer({ min: 1, max: 5 }),
  rollbackBackoff: fc.oneof(fc.constant(defaultLifecycleDefaults.rollbackBackoff), backoffArb),
  expungeGraceMs: fc.constantFrom(defaultLifecycleDefaults.expungeGraceMs, 60_000, 1_000, 1),
});

export function describeScenario(scenario: Scenario): string {
  const steps = scenario.steps.map((step, i) => `  #${i} ${describeStep(step)}`);
  return `\ndefaults: ${showDefaults(scenario.defaults)}\n${steps.join('\n')}\n`;
}

/** A history that starts with a submission (usually valid), then up to `maxSteps` random steps. */
export function scenarioArb(maxSteps = 40): fc.Arbitrary<Scenario> {
  return fc
    .record({
      defaults: defaultsArb,
      first: submitActionArb,
      steps: fc.array(stepArb, { maxLength: maxSteps, size: 'max' }),
    })
    .map(({ defaults, first, steps }) =>
      printable({ defaults, steps: [{ clock: { kind: 'advance', ms: 0 }, action: first } as Step, ...steps] }, describeScenario),
    );
}

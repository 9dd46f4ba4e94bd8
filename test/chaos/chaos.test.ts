// The chaos suite (issue 7): the whole system as separate processes on a stack of its
// own, a mixed load, faults on a seeded schedule (process kills and pauses, service
// restarts, and network faults between the roles and Kafka or PostgreSQL), poison input;
// then one test per invariant. `npm run test:chaos` runs a short run (CI does too);
// CHAOS_DURATION_S, CHAOS_RATE, CHAOS_SEED and CHAOS_CHANNEL make it longer, denser or a replay;
// CHAOS_BROKER=custom runs it on the custom broker (PostgreSQL and RabbitMQ, no Kafka).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHED_BY_THE_API, SHED_BY_THE_BROKER } from './support/checks.js';
import { MUST_ROLL_BACK, SHOULD_COMPLETE } from './support/load.js';
import { optionsFromEnv, replayCommand } from './support/options.js';
import { seedFromEnv } from './support/random.js';
import { runChaos, type ChaosReport } from './support/scenario.js';

const options = optionsFromEnv(seedFromEnv());
let report: ChaosReport;

beforeAll(async () => {
  report = await runChaos(options);
}, options.durationMs + options.drainMs + 900_000);

afterAll(() => {
  if (report === undefined) {
    process.stderr.write(`chaos: the run did not finish; replay with: ${replayCommand(options)}\n`);
    return;
  }
  const failing = report.invariants.filter((i) => !i.ok);
  const faults = report.injected.map((f) => `${f.kind}${f.injected ? '' : ` (NOT injected: ${f.what})`}${f.recoveryError === undefined ? '' : ' (never whole again)'}`);
  process.stderr.write(
    `${JSON.stringify({ seed: report.seed, provenance: report.provenance, broker: report.broker, channel: report.options.channel, replay: report.replay, leftOut: report.leftOut, tasks: report.tasks, hostile: report.hostile, faults, roleRestarts: report.roleRestarts, proxies: report.proxies, pressure: report.pressure, invariants: report.invariants.map((i) => ({ name: i.name, ok: i.ok, violations: i.violations.length, ...(i.ok ? {} : { firstViolations: i.violations.slice(0, 5) }), ...i.detail })), logs: report.logs }, null, 2)}\n`,
  );
  if (failing.length > 0) process.stderr.write(`chaos: FAILED; replay with: ${report.replay}\n`);
});

const direct = options.broker === 'custom' ? "straight to the custom broker's inbox" : 'straight to Kafka';
const deadLetters = options.broker === 'custom' ? 'broker_dead_letters' : 'the dead-letter topic';

describe(`chaos run (seed ${options.seed}, ${options.broker} broker, ${options.channel} channel, ${options.durationMs / 1000} s)`, () => {
  const invariant = (prefix: string) => {
    const found = report.invariants.find((i) => i.name.startsWith(prefix));
    if (found === undefined) throw new Error(`invariant ${prefix} was not checked`);
    return found;
  };

  it('covered every fault kind of its channel and broker: none left out of the schedule', () => {
    const scheduled = new Set(report.schedule.map((f) => f.kind));
    expect({ skipped: report.kinds.skipped, missing: report.kinds.required.filter((k) => !scheduled.has(k)) }).toEqual({ skipped: [], missing: [] });
  });

  it('injected every fault of the schedule for real, and the world was whole again after each', () => {
    expect(report.injected).toHaveLength(report.schedule.length);
    expect(report.injected.filter((f) => !f.injected).map((f) => `${f.kind}: ${f.what}`)).toEqual([]);
    expect(report.injected.filter((f) => f.recoveryError !== undefined).map((f) => `${f.kind}: ${f.recoveryError}`)).toEqual([]);
    const injectedKinds = new Set(report.injected.filter((f) => f.injected).map((f) => f.kind));
    expect(report.kinds.required.filter((k) => !injectedKinds.has(k))).toEqual([]);
  });

  it('submitted the whole load', () => {
    expect(report.tasks.submitted).toBeGreaterThan(options.tasksPerSecond * (options.durationMs / 1000) * 0.8);
  });

  it('ended each scenario as it asks: failing ones never complete, the others mostly do', () => {
    const table = report.tasks.byScenario;
    for (const scenario of MUST_ROLL_BACK) expect({ scenario, completed: table[scenario]?.completed ?? 0 }).toEqual({ scenario, completed: 0 });
    for (const scenario of SHOULD_COMPLETE) {
      const row = table[scenario] ?? {};
      // Of the tasks the system took on (the shed ones never ran): faults may time some
      // out (and roll them back); most must get through.
      const total = Object.entries(row).reduce((sum, [outcome, n]) => (outcome === SHED_BY_THE_API || outcome === SHED_BY_THE_BROKER ? sum : sum + n), 0);
      expect({ scenario, mostlyCompleted: total > 0 && (row.completed ?? 0) >= total * 0.6 }).toEqual({ scenario, mostlyCompleted: true });
    }
  });

  it('1. every submitted task has exactly one terminal outcome', () => {
    expect(invariant('1.').violations.slice(0, 20)).toEqual([]);
  });

  it('2. the projection equals a replay of the log, is not behind it, and says what the log says', () => {
    expect(invariant('2.').violations.slice(0, 20)).toEqual([]);
    expect(invariant('2.').ok).toBe(true);
  });

  it('3. the datastore and the environment hold exactly the effects of completed tasks, and no stray', () => {
    expect(invariant('3.').violations.slice(0, 20)).toEqual([]);
    expect(invariant('3.').detail?.checkedTasks).toBeGreaterThan(0);
  });

  it('4. no task stayed non-terminal longer than its timeout plus the stated bound, counted from its request', () => {
    expect(invariant('4.').violations.slice(0, 20)).toEqual([]);
  });

  it('5. every environment resource belongs to a completed task, and late results left nothing behind', () => {
    expect(invariant('5.').violations.slice(0, 20)).toEqual([]);
  });

  it('cancellation: each cancel was answered, and each cancelled task failed (cancelled) and rolled back unless it had ended first', () => {
    expect(invariant('cancellation').violations.slice(0, 20)).toEqual([]);
    expect(invariant('cancellation').detail?.sent).toBeGreaterThan(0);
  });

  it('no submission was refused with anything but "try again later"', () => {
    expect(invariant('requests').violations.slice(0, 20)).toEqual([]);
  });

  it(`hostile input was answered as it must, through the API and ${direct}, and the system kept going`, () => {
    expect(invariant('hostile').violations.slice(0, 20)).toEqual([]);
    expect(invariant('hostile').ok).toBe(true);
  });

  it(`poison input went to ${deadLetters} or got a 4xx, and the system kept going`, () => {
    expect(invariant('poison').violations).toEqual([]);
    expect(invariant('poison').ok).toBe(true);
  });
});

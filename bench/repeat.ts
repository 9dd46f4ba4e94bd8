// BENCH_RUNS: one run of a scenario on a 2-core machine shared with other work says
// little, so the comparison benchmarks run their scenario several times and report
// the median and the spread (min, max) of every figure rather than a single number.
import { loadavg } from 'node:os';
import { envInt, progress } from './stats.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

/** What one run of a scenario returns: flat named figures, plus detail kept from the last run. */
export interface RunOutcome {
  figures: Record<string, number>;
  detail: Record<string, unknown>;
}

export function runsFromEnv(env: Record<string, string | undefined> = process.env): number {
  return envInt('BENCH_RUNS', 3, env);
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  return { median: round(median), min: round(sorted[0] ?? Number.NaN), max: round(sorted[sorted.length - 1] ?? Number.NaN), values: values.map(round) };
}

export async function repeatRuns(name: string, runs: number, scenario: (run: number) => Promise<RunOutcome>): Promise<Record<string, unknown>> {
  const outcomes: RunOutcome[] = [];
  for (let run = 0; run < runs; run++) {
    progress(`${name}: run ${run + 1} of ${runs}`);
    const outcome = await scenario(run);
    // The 1-minute load average after each run: other work on the machine shows here.
    outcomes.push({ ...outcome, figures: { ...outcome.figures, 'machine.loadAverage1m': Math.round((loadavg()[0] ?? 0) * 100) / 100 } });
  }
  const names = [...new Set(outcomes.flatMap((o) => Object.keys(o.figures)))];
  const figures = Object.fromEntries(names.map((n) => [n, spread(outcomes.map((o) => o.figures[n] ?? Number.NaN))]));
  return { runs, figures, lastRun: outcomes[outcomes.length - 1]?.detail };
}

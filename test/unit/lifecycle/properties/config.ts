// How hard the property tests try. Fixed seeds keep CI reproducible; to explore further,
// run with another seed and more runs, e.g.
//   STACKL_FC_SEED=42 STACKL_FC_RUNS_SCALE=10 npx vitest run --project unit test/unit/lifecycle/properties
// A failure prints its seed and path: set STACKL_FC_SEED to that seed to replay it.
import fc from 'fast-check';

const DEFAULT_SEED = 20_250_612;

function fromEnvironment(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number (got "${raw}")`);
  return value;
}

export const SEED = fromEnvironment('STACKL_FC_SEED', DEFAULT_SEED);
const RUNS_SCALE = fromEnvironment('STACKL_FC_RUNS_SCALE', 1);

/** fc.assert with this folder's seed and `numRuns` scaled by STACKL_FC_RUNS_SCALE. */
export function assertProperty<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, numRuns: number): void {
  fc.assert(property, { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * RUNS_SCALE)) });
}

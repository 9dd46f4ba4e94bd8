// kind-validation: what a registered kind's payload check costs the broker beside a
// built-in kind's. A built-in kind is checked with its zod schema; a registered one with
// the JSON Schema its worker published, turned back into zod (processors/registry/).
// Same payloads, same process, alternated in rounds, reported as checks per second and
// the ratio registered / built-in.
import { builtInKinds, payloadSchemaFor } from '../processors/lifecycle/index.js';
import { definitionOf, kindRecordOf } from '../processors/registry/kind-record.js';
import { progress } from './stats.js';

const int = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

/** Payloads each kind accepts (and one it refuses), as tasks carry them. */
const SAMPLES: { kind: string; action: string; payload: unknown }[] = [
  { kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 200 } },
  { kind: 'probe', action: 'run', payload: { outcome: 'sometimes' } },
  { kind: 'document', action: 'create', payload: { documents: Array.from({ length: 10 }, (_, i) => ({ key: `inventory/server/host-${i}`, body: { cpu: 4, tags: ['a', 'b'], owner: { team: 'ops' } } })) } },
  { kind: 'stack', action: 'create', payload: { name: 'shop', services: [{ name: 'web', requires: ['linux'], config: { image: 'web:1' } }, { name: 'db', requires: ['linux'], config: { image: 'pg:16' } }] } },
];

function rate(check: (sample: (typeof SAMPLES)[number]) => void, rounds: number): number {
  const began = process.hrtime.bigint();
  for (let i = 0; i < rounds; i += 1) for (const sample of SAMPLES) check(sample);
  return (rounds * SAMPLES.length) / (Number(process.hrtime.bigint() - began) / 1e9);
}

async function kindValidation(): Promise<Record<string, unknown>> {
  const rounds = int('BENCH_ROUNDS', 20_000);
  const repeats = int('BENCH_REPEATS', 5);
  const registered = new Map(Object.entries(builtInKinds).map(([name, kind]) => [name, definitionOf(kindRecordOf({ ...kind, name }, 'default', 'bench'))]));
  const builtIn = (s: (typeof SAMPLES)[number]) => void payloadSchemaFor(builtInKinds[s.kind]!, s.action)!.safeParse(s.payload);
  const fromRegistry = (s: (typeof SAMPLES)[number]) => void payloadSchemaFor(registered.get(s.kind)!, s.action)!.safeParse(s.payload);
  rate(builtIn, 2_000); // warm both paths before measuring
  rate(fromRegistry, 2_000);
  const runs: { builtInPerSecond: number; registeredPerSecond: number; ratio: number }[] = [];
  for (let r = 0; r < repeats; r += 1) {
    const a = rate(builtIn, rounds);
    const b = rate(fromRegistry, rounds);
    runs.push({ builtInPerSecond: Math.round(a), registeredPerSecond: Math.round(b), ratio: Number((b / a).toFixed(3)) });
    progress(`round ${r + 1}/${repeats}: built-in ${Math.round(a)}/s, registered ${Math.round(b)}/s`);
  }
  const ratios = runs.map((x) => x.ratio).sort((x, y) => x - y);
  return { settings: { rounds, repeats, samples: SAMPLES.map((s) => `${s.kind}/${s.action}`) }, runs, medianRatio: ratios[Math.floor(ratios.length / 2)] };
}

export const kindValidationBenchmarks = { 'kind-validation': kindValidation };

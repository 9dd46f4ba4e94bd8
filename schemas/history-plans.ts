// Single-object records name their writer schema by fingerprint only. Records written
// before an envelope changed carry the fingerprint of a schema this build no longer
// writes; schemas/avro/history keeps those schemas, and each becomes a read plan that
// resolves the old record into today's envelope (Avro schema resolution).
import { avroHistory } from './generated/avro-history.js';
import { planFor, type ReadPlan } from './writer-schemas.js';
import type { SchemaSource } from './writer-schemas.js';

function historicalPlans(): Map<string, ReadPlan> {
  const plans = new Map<string, ReadPlan>();
  for (const { file, schema } of avroHistory) {
    const planned = planFor(`schemas/avro/history/${file}`, schema as SchemaSource);
    if (!planned.ok) throw new Error(planned.message);
    plans.set(file.split('.')[1] ?? '', planned.plan);
  }
  return plans;
}

const plans = historicalPlans();

/** How to read a record written with an earlier envelope of this fingerprint, if we know it. */
export function historicalPlan(fingerprintHex: string): ReadPlan | undefined {
  return plans.get(fingerprintHex);
}

// Confluent-framed records name their writer schema by registry id. This turns an id into a
// plan to read the record with a bundled schema: the same schema (same canonical form, the
// usual case), or an older/newer writer schema of the same envelope read through avsc's
// schema resolution. Plans are cached per id; failures are not, so a registry outage heals.
import avro from 'avsc';
import type { Schema, Type } from 'avsc';
import { ServiceUnavailableError } from '../core/errors.js';
import { parsingCanonicalForm } from './canonical-form.js';
import { schemaFingerprint } from './fingerprint.js';
import { parseOptions } from './logical-types.js';
import { schemaByFingerprint, schemaByFullName } from './topic-schemas.js';
import type { TopicSchema } from './topic-schemas.js';

/** A writer schema as a registry client gives it: an avsc Type, its JSON, or the JSON text. */
export type SchemaSource = Type | object | string;

/**
 * Looks up a schema registry id. Resolve `undefined` when the id does not exist (the record is
 * then dead-lettered as DECODE_UNKNOWN_SCHEMA); reject when the registry cannot answer (decode
 * then rejects with a retriable ServiceUnavailableError, not a DecodeError).
 */
export type SchemaResolver = (schemaId: number) => Promise<SchemaSource | undefined>;

export interface ReadPlan {
  readonly schema: TopicSchema;
  /** avsc resolver from the writer schema; absent when the writer schema is the bundled one. */
  readonly resolver?: ReturnType<Type['createResolver']>;
}

export type PlanResult = { ok: true; plan: ReadPlan } | { ok: false; message: string; schema?: string };

function schemaJson(source: SchemaSource): unknown {
  if (typeof source === 'string') return JSON.parse(source);
  const maybeType = source as { schema?: unknown };
  // Any avsc Type (the registry client may hold its own copy of avsc): export its JSON.
  return typeof maybeType.schema === 'function' ? (source as Type).schema({ exportAttrs: true }) : source;
}

/** How to read records written with `source`; `label` names it in messages ("schema id 7"). */
export function planFor(label: string, source: SchemaSource): PlanResult {
  let writer: Type;
  try {
    writer = avro.Type.forSchema(schemaJson(source) as Schema, parseOptions());
  } catch (error) {
    return { ok: false, message: `${label} is not a valid Avro schema: ${String(error)}` };
  }
  const canonical = parsingCanonicalForm(writer.schema({ exportAttrs: true }));
  const same = schemaByFingerprint(schemaFingerprint(canonical).toString('hex'));
  if (same) return { ok: true, plan: { schema: same } };
  const reader = schemaByFullName(writer.name ?? '');
  if (!reader) return { ok: false, message: `${label} (${writer.name ?? writer.typeName}) is not a STACKL envelope` };
  try {
    return { ok: true, plan: { schema: reader, resolver: reader.type.createResolver(writer) } };
  } catch (error) {
    return { ok: false, schema: reader.fullName, message: `${label} cannot be read as ${reader.fullName}: ${String(error)}` };
  }
}

export function createPlanCache(resolve: SchemaResolver): (schemaId: number) => Promise<PlanResult> {
  const plans = new Map<number, Promise<PlanResult>>();
  const load = async (schemaId: number): Promise<PlanResult> => {
    let source: SchemaSource | undefined;
    try {
      source = await resolve(schemaId);
    } catch (error) {
      throw new ServiceUnavailableError('schema-registry', `cannot fetch schema id ${schemaId}: ${String(error)}`, error);
    }
    if (source === undefined || source === null) return { ok: false, message: `schema id ${schemaId} is not in the registry` };
    return planFor(`schema id ${schemaId}`, source);
  };
  return (schemaId) => {
    let plan = plans.get(schemaId);
    if (!plan) {
      plan = load(schemaId);
      plans.set(schemaId, plan);
      const forget = () => plans.delete(schemaId);
      plan.then((result) => (result.ok ? undefined : forget()), forget);
    }
    return plan;
  };
}

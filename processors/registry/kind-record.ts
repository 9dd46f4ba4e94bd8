// A kind as the registry holds it: what a worker publishes when it starts, in JSON so a
// worker in any language can write it (docs/worker-protocol.md). Payload shapes travel as
// JSON Schema (draft 2020-12); brokers and the API turn them back into validators.
import { z } from 'zod';
import { KIND_DEFAULT_FIELDS, KIND_NAME_PATTERN, type KindDefaults, type KindDefinition, type NamedKind } from '../lifecycle/index.js';
import { isSchema } from '../lifecycle/kinds/define-kind.js';

export const KIND_RECORD_FORMAT = 1;
/** A registry record larger than this is refused: it is read whole by every broker and API. */
export const MAX_KIND_RECORD_BYTES = 256 * 1024;

const name = z.string().regex(KIND_NAME_PATTERN, 'must be 1 to 63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit');
const duration = z.number().int().min(1).max(365 * 24 * 3_600_000);

/** Unknown fields are dropped, not refused: a newer worker may say more than this broker reads. */
export const kindRecordSchema = z.object({
  format: z.literal(KIND_RECORD_FORMAT),
  name,
  version: z.number().int().min(1),
  pool: name,
  actions: z.array(z.string().min(1).max(100)).min(1).max(100),
  payloadSchemas: z.record(z.string(), z.record(z.string(), z.unknown())),
  rollback: z.enum(['compensate', 'none']),
  defaults: z
    .object({
      timeoutMs: duration.optional(),
      attemptTimeoutMs: duration.nullable().optional(),
      heartbeatTimeoutMs: duration.nullable().optional(),
      maxAttempts: z.number().int().min(1).max(1_000).optional(),
      rollbackMaxAttempts: z.number().int().min(1).max(1_000).optional(),
    })
    .default({}),
  description: z.string().max(2_000).optional(),
  registeredAt: z.number().int(),
  registeredBy: z.string().max(200),
});

export type KindRecord = z.infer<typeof kindRecordSchema>;

/** The record a worker of `pool` publishes for `kind`. */
export function kindRecordOf(kind: NamedKind, pool: string, registeredBy: string, now: number = Date.now()): KindRecord {
  const payloadSchemas: Record<string, Record<string, unknown>> = {};
  for (const action of kind.actions) {
    const schema = isSchema(kind.payload) ? kind.payload : kind.payload[action];
    if (schema === undefined) throw new Error(`kind "${kind.name}" has no payload schema for ${action}`);
    // `input`: the shape a submitter sends (fields with defaults are optional there).
    payloadSchemas[action] = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  }
  const defaults: Record<string, unknown> = {};
  for (const field of KIND_DEFAULT_FIELDS) if (kind.defaults?.[field] !== undefined) defaults[field] = kind.defaults[field];
  return {
    format: KIND_RECORD_FORMAT,
    name: kind.name,
    version: kind.version ?? 1,
    pool,
    actions: [...kind.actions],
    payloadSchemas,
    rollback: kind.rollback ?? 'compensate',
    defaults: defaults as KindDefaults,
    ...(kind.description === undefined ? {} : { description: kind.description }),
    registeredAt: now,
    registeredBy,
  };
}

/** Parses a record's bytes; the error names what is wrong, for the log. */
export function parseKindRecord(bytes: Buffer): { ok: true; record: KindRecord } | { ok: false; problem: string } {
  if (bytes.length > MAX_KIND_RECORD_BYTES) return { ok: false, problem: `a kind record must be at most ${MAX_KIND_RECORD_BYTES} bytes (got ${bytes.length})` };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { ok: false, problem: `a kind record must be JSON: ${(error as Error).message}` };
  }
  return checkKindRecord(json);
}

/** A record already parsed from JSON (a jsonb column), checked as parseKindRecord checks one. */
export function checkKindRecord(json: unknown): { ok: true; record: KindRecord } | { ok: false; problem: string } {
  const parsed = kindRecordSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ') };
  const problem = recordProblem(parsed.data);
  return problem === null ? { ok: true, record: parsed.data } : { ok: false, problem };
}

/** What the record itself contradicts. Whether its schemas can be used is learnt by turning them into validators, once (definitionOf). */
function recordProblem(record: KindRecord): string | null {
  if (new Set(record.actions).size !== record.actions.length) return `kind "${record.name}" lists an action twice`;
  const missing = record.actions.filter((action) => !Object.hasOwn(record.payloadSchemas, action));
  if (missing.length > 0) return `kind "${record.name}" has no payload schema for ${missing.join(', ')}`;
  return null;
}

/** The broker's view of a registered kind: the same validators as a kind defined in code. */
export function definitionOf(record: KindRecord): KindDefinition {
  const payload: Record<string, z.ZodType> = {};
  for (const action of record.actions) payload[action] = z.fromJSONSchema(record.payloadSchemas[action] as Parameters<typeof z.fromJSONSchema>[0]);
  return {
    name: record.name,
    version: record.version,
    actions: record.actions,
    payload,
    rollback: record.rollback,
    defaults: record.defaults as KindDefaults,
    ...(record.description === undefined ? {} : { description: record.description }),
  };
}

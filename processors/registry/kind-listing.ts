// Kinds as GET /kinds and `stackl kinds` show them: one shape for the built-in kinds and
// the registered ones, with each action's payload as JSON Schema, so a client can build
// or check a payload without reading STACKL's code.
import { z } from 'zod';
import type { KindDefinition, KindRegistry } from '../lifecycle/index.js';
import type { KindView } from './kind-book.js';
import { kindRecordOf } from './kind-record.js';

export interface KindDescription {
  name: string;
  source: 'built-in' | 'registered';
  version: number;
  description: string | null;
  /** The worker pool serving it (`default`: the built-in worker's). */
  pool: string;
  actions: string[];
  payloadSchemas: Record<string, Record<string, unknown>>;
  rollback: 'compensate' | 'none';
  defaults: Record<string, number | null>;
  registeredAt: number | null;
  registeredBy: string | null;
}

const described = new WeakMap<KindDefinition, KindDescription>();

/** Every kind the broker accepts, by name. */
export function describeKinds(kinds: KindRegistry, catalogue?: Pick<KindView, 'record'>): KindDescription[] {
  return [...kinds.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, definition]) => {
      const record = catalogue?.record(name) ?? null;
      if (record !== null) {
        return {
          name,
          source: 'registered',
          version: record.version,
          description: record.description ?? null,
          pool: record.pool,
          actions: [...record.actions],
          payloadSchemas: record.payloadSchemas,
          rollback: record.rollback,
          defaults: { ...record.defaults },
          registeredAt: record.registeredAt,
          registeredBy: record.registeredBy,
        };
      }
      return describeDefined(name, definition);
    });
}

/** A kind defined in code: its schemas converted once. */
function describeDefined(name: string, definition: KindDefinition): KindDescription {
  const known = described.get(definition);
  if (known !== undefined) return known;
  const record = kindRecordOf({ ...definition, name }, 'default', 'stackl', 0);
  const description: KindDescription = {
    name,
    source: 'built-in',
    version: record.version,
    description: record.description ?? null,
    pool: 'default',
    actions: record.actions,
    payloadSchemas: record.payloadSchemas,
    rollback: record.rollback,
    defaults: { ...record.defaults },
    registeredAt: null,
    registeredBy: null,
  };
  described.set(definition, description);
  return description;
}

/** Zod's shape of a description, for the API's response schema. */
export const kindDescriptionSchema = z.object({
  name: z.string(),
  source: z.enum(['built-in', 'registered']),
  version: z.number().int(),
  description: z.string().nullable(),
  pool: z.string(),
  actions: z.array(z.string()),
  payloadSchemas: z.record(z.string(), z.record(z.string(), z.unknown())),
  rollback: z.enum(['compensate', 'none']),
  defaults: z.record(z.string(), z.number().nullable()),
  registeredAt: z.number().int().nullable(),
  registeredBy: z.string().nullable(),
});

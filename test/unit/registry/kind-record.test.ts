import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtInKinds, defineKind, payloadSchemaFor, type NamedKind } from '../../../processors/lifecycle/index.js';
import { compatibilityProblems } from '../../../processors/registry/kind-compatibility.js';
import { definitionOf, kindRecordOf, MAX_KIND_RECORD_BYTES, parseKindRecord, type KindRecord } from '../../../processors/registry/kind-record.js';

const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

const base = defineKind({
  name: 'dns-record',
  actions: ['upsert', 'remove'],
  payload: {
    upsert: z.strictObject({ zone: z.string().min(1), name: z.string(), address: z.ipv4(), ttl: z.number().int().min(60).optional() }),
    remove: z.strictObject({ zone: z.string(), name: z.string() }),
  },
  defaults: { timeoutMs: 30_000, maxAttempts: 2 },
});
const record = (kind: NamedKind = base, pool = 'dns'): KindRecord => kindRecordOf(kind, pool, 'worker-1', 1_000);

describe('a kind record', () => {
  it('survives the trip through the registry: the broker validates as the worker defined', () => {
    const parsed = parseKindRecord(bytes(record()));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.record).toMatchObject({ format: 1, name: 'dns-record', version: 1, pool: 'dns', rollback: 'compensate', defaults: { timeoutMs: 30_000, maxAttempts: 2 } });
    const definition = definitionOf(parsed.record);
    const upsert = payloadSchemaFor(definition, 'upsert');
    expect(upsert?.safeParse({ zone: 'example.org', name: 'www', address: '10.0.0.1' }).success).toBe(true);
    const refused = upsert?.safeParse({ zone: '', name: 'www', address: 'not-an-ip', extra: 1 });
    expect(refused?.success).toBe(false);
    expect(refused?.error?.issues.map((i) => i.path.join('.') || i.code)).toEqual(expect.arrayContaining(['zone', 'address']));
  });

  it.each(Object.entries(builtInKinds))('carries the built-in kind %s, each action accepting and refusing as the code does', (name, kind) => {
    const parsed = parseKindRecord(bytes(kindRecordOf({ ...kind, name }, 'default', 'stackl')));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    for (const action of kind.actions) expect(payloadSchemaFor(definitionOf(parsed.record), action)?.safeParse({ surely: 'not this' }).success).toBe(false);
  });

  it.each([
    ['not JSON', Buffer.from('{nope'), /must be JSON/],
    ['a name in capitals', bytes({ ...record(), name: 'DNS' }), /name: must be 1 to 63 characters/],
    ['an action without a schema', bytes({ ...record(), actions: ['upsert', 'remove', 'rename'] }), /no payload schema for rename/],
    ['an action listed twice', bytes({ ...record(), actions: ['upsert', 'upsert'] }), /lists an action twice/],
    ['an unknown rollback mode', bytes({ ...record(), rollback: 'maybe' }), /rollback/],
    ['too many bytes', Buffer.alloc(MAX_KIND_RECORD_BYTES + 1, 32), /at most 262144 bytes/],
  ])('is refused when it has %s, saying what is wrong', (_what, value, message) => {
    const parsed = parseKindRecord(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(message);
  });
});

describe('a change of a registered kind', () => {
  const change = (payload: typeof base.payload, extra: Partial<Parameters<typeof defineKind>[0]> = {}): KindRecord => record({ ...base, ...extra, payload } as typeof base);
  const upsert = (base.payload as Record<string, z.ZodObject>).upsert as z.ZodObject;
  const remove = (base.payload as Record<string, z.ZodObject>).remove as z.ZodObject;

  it('may add optional fields, actions and other defaults', () => {
    expect(compatibilityProblems(record(), record())).toEqual([]);
    expect(compatibilityProblems(record(), change({ upsert: upsert.extend({ comment: z.string().optional() }), remove }))).toEqual([]);
    const more = defineKind({ ...base, actions: ['upsert', 'remove', 'check'], payload: { upsert, remove, check: z.object({}) }, defaults: { timeoutMs: 5_000 } });
    expect(compatibilityProblems(record(), record(more))).toEqual([]);
  });

  it.each([
    ['a new required field', () => change({ upsert: upsert.extend({ owner: z.string() }), remove }), 'new field upsert.payload.owner is required (a new field must be optional)'],
    ['a removed field', () => change({ upsert: upsert.omit({ ttl: true }), remove }), 'field upsert.payload.ttl was removed'],
    ['an optional field made required', () => change({ upsert: upsert.extend({ ttl: z.number().int().min(60) }), remove }), 'field upsert.payload.ttl became required'],
    ['a field of another type', () => change({ upsert: upsert.extend({ name: z.number() }), remove }), 'field upsert.payload.name changed its shape'],
    ['a tighter constraint', () => change({ upsert: upsert.extend({ zone: z.string().min(3) }), remove }), 'field upsert.payload.zone changed its shape'],
    ['a removed action', () => record(defineKind({ ...base, actions: ['upsert'], payload: { upsert } })), 'action "remove" was removed'],
    ['another pool', () => record(base, 'elsewhere'), 'served by pool "dns"'],
    ['rollback given up', () => record({ ...base, rollback: 'none' }), 'rollback changed from "compensate" to "none"'],
  ])('refuses %s, naming it', (_what, next, message) => {
    const problems = compatibilityProblems(record(), next());
    expect(problems.join('\n')).toContain(message);
  });
});

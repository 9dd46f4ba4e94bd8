import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../../core/errors.js';
import {
  builtInKinds,
  createKindRegistry,
  decide,
  defaultLifecycleDefaults,
  defaultLifecycleLimits,
  defineKind,
  initialState,
  payloadSchemaFor,
  probePayloadSchema,
} from '../../../processors/lifecycle/index.js';
import { submit, T0 } from './fixtures.js';

describe('the probe kind', () => {
  it.each([
    { outcome: 'succeed' },
    { outcome: 'fail', rollback: 'fail' },
    { outcome: 'hang', durationMs: 0 },
    { outcome: 'succeed', durationMs: 3_600_000, rollback: 'succeed' },
  ])('accepts %o', (payload) => {
    expect(probePayloadSchema.safeParse(payload).success).toBe(true);
  });

  it.each([
    [{}, 'outcome'],
    [{ outcome: 'explode' }, 'outcome'],
    [{ outcome: 'succeed', durationMs: -1 }, 'durationMs'],
    [{ outcome: 'succeed', durationMs: 3_600_001 }, 'durationMs'],
    [{ outcome: 'succeed', durationMs: 1.5 }, 'durationMs'],
    [{ outcome: 'succeed', rollback: 'maybe' }, 'rollback'],
    [{ outcome: 'succeed', colour: 'red' }, ''],
    ['succeed', ''],
  ])('rejects %o at path "%s"', (payload, path) => {
    const parsed = probePayloadSchema.safeParse(payload);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });

  it('has the single action run', () => {
    expect(builtInKinds.probe?.actions).toEqual(['run']);
    const registry = createKindRegistry();
    expect([...registry.keys()]).toEqual(['document', 'probe', 'query', 'snapshot', 'stack']);
    expect(payloadSchemaFor(registry.get('probe')!, 'run')).toBe(probePayloadSchema);
    expect(payloadSchemaFor(registry.get('probe')!, 'walk')).toBeUndefined();
  });
});

describe('the kind registry', () => {
  const document = defineKind({
    name: 'document',
    actions: ['create', 'delete'],
    payload: { create: z.strictObject({ title: z.string() }), delete: z.strictObject({ id: z.string() }) },
  });

  it('adding a kind is one registration, and decide then accepts it with per-action payloads', () => {
    const kinds = createKindRegistry({ ...builtInKinds, document });
    const ctx = { now: T0, kinds, defaults: defaultLifecycleDefaults, limits: defaultLifecycleLimits() };
    const accepted = decide(submit({ kind: 'document', action: 'delete', payload: '{"id":"d1"}' }), initialState, ctx);
    expect(accepted.map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched']);
    const refused = decide(submit({ kind: 'document', action: 'delete', payload: '{"title":"t"}' }), initialState, ctx);
    expect(refused).toMatchObject([{ type: 'TaskRejected', body: { code: 'INVALID_PAYLOAD' } }]);
    const unknown = decide(submit({ kind: 'gizmo' }), initialState, ctx);
    expect(unknown).toMatchObject([{ body: { code: 'UNKNOWN_KIND', message: 'unknown kind "gizmo"; known kinds: document, probe, query, snapshot, stack' } }]);
  });

  it.each([
    ['no actions', { k: { actions: [], payload: z.object({}) } }, /lists no actions/],
    ['a repeated action', { k: { actions: ['a', 'a'], payload: z.object({}) } }, /lists an action twice/],
    ['a missing payload schema', { k: { actions: ['a', 'b'], payload: { a: z.object({}) } } }, /no payload schema for b/],
    ['an extra payload schema', { k: { actions: ['a'], payload: { a: z.object({}), c: z.object({}) } } }, /unlisted actions c/],
    ['an empty name', { ' ': { actions: ['a'], payload: z.object({}) } }, /must be 1 to 63 characters/],
    ['a name in capitals', { Gizmo: { actions: ['a'], payload: z.object({}) } }, /must be 1 to 63 characters/],
    ['a name that is not its key', { k: { name: 'other', actions: ['a'], payload: z.object({}) } }, /under another name/],
  ])('refuses a kind with %s', (_name, definitions, message) => {
    expect(() => createKindRegistry(definitions)).toThrow(ConfigError);
    expect(() => createKindRegistry(definitions)).toThrow(message);
  });
});

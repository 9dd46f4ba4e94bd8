import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkSubmission, toSubmitRequest } from '../../../api/submission-check.js';
import { submitBodySchema } from '../../../api/schemas.js';
import { createKindRegistry, defineKind } from '../../../processors/lifecycle/index.js';

const kinds = createKindRegistry({
  probe: defineKind({ actions: ['run'], payload: z.strictObject({ outcome: z.enum(['succeed', 'fail']) }) }),
  stack: defineKind({ actions: ['create', 'delete'], payload: { create: z.object({ name: z.string() }), delete: z.object({ id: z.string() }) } }),
});

describe('checkSubmission', () => {
  it('accepts a payload that fits the action', () => {
    expect(() => checkSubmission(kinds, 'stack', 'create', { name: 'web' })).not.toThrow();
  });

  it('refuses an unknown kind with 422 listing the known kinds', () => {
    expect(() => checkSubmission(kinds, 'nope', 'run', {})).toThrow(expect.objectContaining({ code: 'UNKNOWN_KIND', httpStatus: 422, details: { knownKinds: ['probe', 'stack'] } }));
  });

  it('refuses an unknown action with the kind’s actions', () => {
    expect(() => checkSubmission(kinds, 'stack', 'run', {})).toThrow(expect.objectContaining({ code: 'UNKNOWN_ACTION', details: { knownActions: ['create', 'delete'] } }));
  });

  it('refuses an invalid payload with zod’s paths under payload', () => {
    expect(() => checkSubmission(kinds, 'probe', 'run', { outcome: 'maybe', extra: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_PAYLOAD', details: { issues: [{ path: 'payload.outcome', message: expect.any(String) }, { path: 'payload.extra', message: 'unknown field' }] } }),
    );
  });
});

describe('the submit body', () => {
  it('is strict, bounded, and turns into the broker’s request', () => {
    const body = submitBodySchema.parse({ kind: 'probe', action: 'run', payload: null, origin: { type: 'none' }, maxAttempts: 3 });
    expect(toSubmitRequest(body)).toEqual({ kind: 'probe', action: 'run', payload: null, origin: { type: 'none', target: null }, maxAttempts: 3 });
    expect(submitBodySchema.safeParse({ kind: 'probe', action: 'run' }).success).toBe(false);
    expect(submitBodySchema.safeParse({ kind: 'probe', action: 'run', payload: {}, timeoutMs: 0 }).success).toBe(false);
    expect(submitBodySchema.safeParse({ kind: 'probe', action: 'run', payload: {}, origin: { type: 'webhook', target: 'file:///etc/passwd' } }).success).toBe(false);
    expect(submitBodySchema.safeParse({ kind: 'probe', action: 'run', payload: {}, retryBackoff: { initialMs: 10, multiplier: 2, maxMs: 5 } }).success).toBe(false);
  });
});

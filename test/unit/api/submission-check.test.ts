import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkSubmission, toSubmitRequest } from '../../../api/submission-check.js';
import { submitBodySchema } from '../../../api/schemas.js';
import { createKindRegistry, defaultLifecycleLimits, defineKind } from '../../../processors/lifecycle/index.js';

const kinds = createKindRegistry({
  probe: defineKind({ name: 'probe', actions: ['run'], payload: z.strictObject({ outcome: z.enum(['succeed', 'fail']) }) }),
  stack: defineKind({ name: 'stack', actions: ['create', 'delete'], payload: { create: z.object({ name: z.string() }), delete: z.object({ id: z.string() }) } }),
  blob: defineKind({ name: 'blob', actions: ['put'], payload: z.unknown() }),
});
const rules = { kinds, limits: { ...defaultLifecycleLimits('app.'), maxPayloadBytes: 4096 } };
const check = (kind: string, action: string, payload: unknown, origin?: { type: 'topic'; target: string }) => () => checkSubmission(rules, { kind, action, payload, origin });

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('checkSubmission', () => {
  it('accepts a payload that fits the action', () => {
    expect(check('stack', 'create', { name: 'web' })).not.toThrow();
  });

  it('refuses an unknown kind with 422 listing the known kinds', () => {
    expect(check('nope', 'run', {})).toThrow(expect.objectContaining({ code: 'UNKNOWN_KIND', httpStatus: 422, details: { knownKinds: ['blob', 'probe', 'stack'] } }));
  });

  it('refuses an unknown action with the kind’s actions', () => {
    expect(check('stack', 'run', {})).toThrow(expect.objectContaining({ code: 'UNKNOWN_ACTION', details: { knownActions: ['create', 'delete'] } }));
  });

  it('refuses an invalid payload with zod’s paths under payload', () => {
    expect(check('probe', 'run', { outcome: 'maybe', extra: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_PAYLOAD', details: { issues: [{ path: 'payload.outcome', message: expect.any(String) }, { path: 'payload.extra', message: 'unknown field' }] } }),
    );
  });

  it('accepts a reply topic under the reply prefix and refuses any other topic with 422 INVALID_ORIGIN', () => {
    expect(check('probe', 'run', { outcome: 'succeed' }, { type: 'topic', target: 'app.reply.orders' })).not.toThrow();
    for (const target of ['__consumer_offsets', '__transaction_state', 'app.task.requests', 'app.task.events', 'app.lifecycle-tasks-changelog', 'app.reply.', 'orders']) {
      expect(check('probe', 'run', { outcome: 'succeed' }, { type: 'topic', target }), target).toThrow(
        expect.objectContaining({ code: 'INVALID_ORIGIN', httpStatus: 422, details: expect.objectContaining({ replyTopicPrefix: 'app.reply.' }) }),
      );
    }
  });

  it('refuses a payload over the configured size with 413, and one just under it is accepted', () => {
    const text = (n: number) => 'x'.repeat(n - 2); // JSON.stringify adds the two quotes
    expect(check('blob', 'put', text(4096))).not.toThrow();
    expect(check('blob', 'put', text(4097))).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, details: { maxPayloadBytes: 4096 } }));
  });

  it('refuses a payload nested 20,000 deep with 400 PAYLOAD_TOO_DEEP, without exhausting the stack', () => {
    expect(check('blob', 'put', nested(20_000))).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_DEEP', httpStatus: 400, message: 'payload is nested more than 64 levels deep', details: expect.objectContaining({ maxDepth: 64 }) }));
    expect(check('blob', 'put', nested(64))).not.toThrow();
    expect(check('blob', 'put', nested(65))).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_DEEP', httpStatus: 400 }));
  });

  it('refuses text PostgreSQL could not store: the \\u0000 character and unpaired surrogates', () => {
    expect(check('blob', 'put', { a: 'nul\u0000here' })).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD', message: expect.stringMatching(/u0000/) }));
    expect(check('blob', 'put', { a: 'half \ud800 a pair' })).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD', message: expect.stringMatching(/surrogate/) }));
    expect(check('blob', 'put', { a: 'a whole pair 😀' })).not.toThrow();
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

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { ServiceUnavailableError, StacklError } from '../../../core/errors.js';
import { toProblem } from '../../../api/error-mapping.js';
import { problem } from '../../../api/problem.js';

const context = { bodyLimit: 1024 };

/** A validation error exactly as fastify builds it from the zod validator's output. */
function validationError(schema: z.ZodType, data: unknown, validationContext = 'body') {
  const result = validatorCompiler({ schema, method: 'POST', url: '/x', httpPart: 'body' })(data) as { error: unknown[] };
  return Object.assign(new Error('invalid'), { statusCode: 400, validation: result.error, validationContext });
}

describe('toProblem', () => {
  it('lists every zod issue with its path; unknown fields one by one', () => {
    const schema = z.strictObject({ kind: z.string(), origin: z.object({ target: z.string() }) });
    const answer = toProblem(validationError(schema, { kind: 1, origin: { target: 2 }, a: 1, b: 2 }), context);
    expect(answer).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', type: 'urn:stackl:problem:validation-failed', title: 'Bad Request' });
    expect((answer.issues as Array<{ path: string }>).map((i) => i.path)).toEqual(['body.kind', 'body.origin.target', 'body.a', 'body.b']);
  });

  it('keeps a StacklError code, status and details, and never lets details overwrite the standard members', () => {
    const error = new StacklError('TASK_NOT_FOUND', 'no task x', { httpStatus: 404, details: { id: 'x', status: 200, code: 'FORGED' } });
    expect(toProblem(error, context)).toEqual({ type: 'urn:stackl:problem:task-not-found', title: 'Not Found', status: 404, detail: 'no task x', code: 'TASK_NOT_FOUND', id: 'x', retriable: false });
    expect(toProblem(new ServiceUnavailableError('kafka', 'down'), context)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', service: 'kafka', retriable: true });
  });

  it.each([
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'MALFORMED_JSON'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'MALFORMED_JSON'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'PAYLOAD_TOO_LARGE'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('maps fastify %s to %i %s', (code, status, ours) => {
    expect(toProblem(Object.assign(new Error('x'), { code, statusCode: status }), context)).toMatchObject({ status, code: ours });
  });

  it('says how large a body may be', () => {
    expect(toProblem(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), context).detail).toContain('1024 bytes');
  });

  it('answers 503 for unreachable dependencies and 500 without internals for anything else', () => {
    const kafka = Object.assign(new Error('broker down'), { name: 'KafkaJSConnectionError' });
    expect(toProblem(kafka, context)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', service: 'kafka' });
    expect(toProblem(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), context)).toMatchObject({ status: 503 });
    // pg-pool's connectionTimeoutMillis, which carries no code.
    expect(toProblem(new Error('timeout exceeded when trying to connect'), context)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', service: 'postgres' });
    // node-postgres' connection dying under a query (PostgreSQL restarted, the link dropped), no code either:
    // with the custom broker a submission's insert met it in the chaos suite and was answered 500.
    for (const message of ['Connection terminated unexpectedly', 'Client has encountered a connection error and is not queryable']) {
      expect(toProblem(new Error(message), context)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', service: 'postgres', retriable: true });
    }
    const bug = toProblem(new TypeError('cannot read properties of undefined (secret internals)'), context);
    expect(bug).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
    expect(JSON.stringify(bug)).not.toContain('secret');
  });

  it('builds problems with a title for unusual statuses too', () => {
    expect(problem(418, 'TEAPOT', 'short and stout').title).toBe('Client Error');
  });
});

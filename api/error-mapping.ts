// Maps anything a handler or fastify throws to a problem. Pure, so every branch is
// unit-tested; the error handler in app.ts only sends what this returns.
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isStacklError } from '../core/errors.js';
import { problem, type Problem } from './problem.js';

export interface Issue {
  /** Where the problem is, e.g. `body.origin.target` or `querystring.limit`. */
  path: string;
  message: string;
}

/** Fastify's own errors about the request itself, by their stable codes. */
const fastifyErrors: Record<string, { status: number; code: string; detail: (limit: number) => string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'MALFORMED_JSON', detail: () => 'the body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_JSON', detail: () => 'the body is empty but its content type says JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: (limit) => `the body is larger than ${limit} bytes` },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', detail: () => 'send the body as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH', detail: () => 'the body does not match its Content-Length' },
};

export function toProblem(error: unknown, context: { bodyLimit: number }): Problem {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'request';
    const issues = error.validation.flatMap((v) => issuesOf(where, v.instancePath, v.message, v.params));
    return problem(400, 'VALIDATION_FAILED', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
  }
  if (isStacklError(error)) {
    return problem(error.httpStatus, error.code, error.message, { ...error.details, retriable: error.retriable });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const known = typeof code === 'string' ? fastifyErrors[code] : undefined;
  if (known !== undefined) return problem(known.status, known.code, known.detail(context.bodyLimit));
  if (isKafkaError(error)) return problem(503, 'SERVICE_UNAVAILABLE', 'Kafka did not accept the request; retry later', { service: 'kafka', retriable: true });
  if (isConnectionError(error)) return problem(503, 'SERVICE_UNAVAILABLE', 'a backing service did not answer; retry later', { retriable: true });
  if (isPoolTimeout(error)) return problem(503, 'SERVICE_UNAVAILABLE', 'PostgreSQL did not give a connection in time; retry later', { service: 'postgres', retriable: true });
  if (isPostgresConnectionLost(error)) return problem(503, 'SERVICE_UNAVAILABLE', 'the connection to PostgreSQL broke while it answered; retry later', { service: 'postgres', retriable: true });
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return problem(status, 'BAD_REQUEST', error instanceof Error ? error.message : 'the request is not valid');
  }
  // Anything else is our bug: say so without leaking internals into the answer.
  return problem(500, 'INTERNAL_ERROR', 'the server failed to answer this request; it has been logged');
}

/** One issue per zod issue; unknown keys become one issue each, at the key's own path. */
function issuesOf(where: string, instancePath: string, message: string | undefined, params: Record<string, unknown>): Issue[] {
  const base = [where, ...instancePath.split('/').filter((s) => s !== '')].join('.');
  const keys = params.keys;
  if (Array.isArray(keys) && keys.length > 0) return keys.map((k) => ({ path: `${base}.${String(k)}`, message: 'unknown field' }));
  return [{ path: base, message: message ?? 'invalid' }];
}

function isKafkaError(error: unknown): boolean {
  return error instanceof Error && error.name.startsWith('KafkaJS');
}

/** pg-pool's connectionTimeoutMillis answers carry no code, only these messages. */
const POOL_TIMEOUTS = new Set(['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout']);

function isPoolTimeout(error: unknown): boolean {
  return error instanceof Error && POOL_TIMEOUTS.has(error.message);
}

/**
 * node-postgres' own errors for a connection that died under a query: they carry no code,
 * only these messages. With the custom broker a submission is an insert into its inbox,
 * so PostgreSQL restarting or the network dropping mid-insert lands here.
 */
const POSTGRES_CONNECTION_LOST = new Set(['Connection terminated unexpectedly', 'Client has encountered a connection error and is not queryable']);

function isPostgresConnectionLost(error: unknown): boolean {
  return error instanceof Error && POSTGRES_CONNECTION_LOST.has(error.message);
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // Node's socket errors, and PostgreSQL's connection-exception class (08xxx) and shutdown codes (57P0x).
  return typeof code === 'string' && (/^E(CONNREFUSED|CONNRESET|TIMEDOUT|HOSTUNREACH|PIPE)$/.test(code) || /^08|^57P0/.test(code));
}

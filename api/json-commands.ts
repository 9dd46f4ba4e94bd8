// Every POST must say Content-Type: application/json, with or without a body. A browser
// sends a cross-site form or a no-cors fetch without asking first only with a "simple"
// content type (form encodings, text/plain) or none at all; application/json needs a
// preflight this API never grants. So no page on another site can submit or cancel a
// task through a user's browser, even on an API without keys. The body parser already
// refuses other types, but a POST without a body never reaches it: hence this hook.
import type { FastifyRequest } from 'fastify';
import { StacklError } from '../core/errors.js';

export async function requireJsonCommands(request: FastifyRequest): Promise<void> {
  if (request.method !== 'POST' || request.is404) return;
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') return;
  throw new StacklError('UNSUPPORTED_MEDIA_TYPE', `send commands with Content-Type: application/json${type === undefined ? ' (an empty body is fine)' : `, not ${type.slice(0, 100)}`}`, {
    httpStatus: 415,
  });
}

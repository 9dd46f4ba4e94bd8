// Optional API keys with scopes. Off when STACKL_API_KEYS is unset (the local demo);
// on, every /tasks route needs a key holding the route's scope. Keys are compared as
// SHA-256 digests with timingSafeEqual, so response time says nothing about a key.
// A key shorter than 32 characters is refused at start: it could be guessed.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError, StacklError } from '../core/errors.js';

export const API_SCOPES = ['submit', 'read', 'operate'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiKey {
  digest: Buffer;
  scopes: ReadonlySet<ApiScope>;
}

/** 32 characters: 128 bits or more from `openssl rand -hex 32` (64) or base64 of 24 random bytes (32). */
export const MIN_API_KEY_LENGTH = 32;

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** `key1:submit,read;key2:operate` → keys; undefined or blank → null (keys off). */
export function parseApiKeys(text: string | undefined): ApiKey[] | null {
  if (text === undefined || text.trim() === '') return null;
  const keys: ApiKey[] = [];
  for (const entry of text.split(';').map((e) => e.trim()).filter((e) => e !== '')) {
    const colon = entry.lastIndexOf(':');
    const key = colon < 0 ? '' : entry.slice(0, colon).trim();
    // Never echo the key itself into an error message or a log line.
    if (key === '') throw new ConfigError(`STACKL_API_KEYS entry ${keys.length + 1} is not key:scope[,scope]`);
    if (key.length < MIN_API_KEY_LENGTH) {
      throw new ConfigError(`STACKL_API_KEYS entry ${keys.length + 1} has a key of ${key.length} characters; keys must have at least ${MIN_API_KEY_LENGTH} (e.g. openssl rand -hex 32)`);
    }
    const scopes = entry.slice(colon + 1).split(',').map((s) => s.trim());
    const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0 || scopes.length === 0) {
      throw new ConfigError(`STACKL_API_KEYS entry ${keys.length + 1} has unknown scopes "${unknown.join(',')}"; scopes are ${API_SCOPES.join(', ')}`);
    }
    keys.push({ digest: digest(key), scopes: new Set(scopes as ApiScope[]) });
  }
  if (keys.length === 0) throw new ConfigError('STACKL_API_KEYS is set but names no key');
  return keys;
}

/** The presented key: `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const header = headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** Throws the 401 or 403 problem; returns the key's scopes when it may use the scope. */
export function authorize(keys: readonly ApiKey[], presented: string | undefined, scope: ApiScope): ReadonlySet<ApiScope> {
  if (presented === undefined) {
    throw new StacklError('UNAUTHENTICATED', 'this API needs a key: send Authorization: Bearer <key> or X-API-Key', { httpStatus: 401 });
  }
  const wanted = digest(presented);
  // Compare against every key, without stopping early, so timing does not reveal which matched.
  let found: ApiKey | undefined;
  for (const key of keys) if (timingSafeEqual(key.digest, wanted)) found = key;
  if (found === undefined) throw new StacklError('UNAUTHENTICATED', 'the API key is not valid', { httpStatus: 401 });
  if (!found.scopes.has(scope)) {
    throw new StacklError('FORBIDDEN', `the API key lacks the "${scope}" scope`, { httpStatus: 403, details: { requiredScope: scope } });
  }
  return found.scopes;
}

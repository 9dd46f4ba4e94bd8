import { describe, expect, it } from 'vitest';
import { authorize, MIN_API_KEY_LENGTH, parseApiKeys, presentedKey } from '../../../api/api-keys.js';
import { apiOptionsFromEnv } from '../../../api/options.js';

// Keys long enough to be accepted (32 characters and more).
const K1 = 'key1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const K2 = 'key2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const READER = 'reader-cccccccccccccccccccccccccccc';

describe('STACKL_API_KEYS', () => {
  it('is off when unset or blank', () => {
    expect(parseApiKeys(undefined)).toBeNull();
    expect(parseApiKeys('  ')).toBeNull();
  });

  it('parses keys with their scopes, tolerating spaces and a trailing separator', () => {
    const keys = parseApiKeys(` ${K1}:submit,read ; ${K2}:operate;`) ?? [];
    expect(keys.map((k) => [...k.scopes])).toEqual([['submit', 'read'], ['operate']]);
    expect(() => authorize(keys, K1, 'read')).not.toThrow();
    expect(() => authorize(keys, K2, 'operate')).not.toThrow();
  });

  it.each([
    ['a scope nobody knows', `${K1}:submit,admin`, /unknown scopes "admin"/],
    ['an entry without scopes', K1, /not key:scope/],
    ['an empty key', ':read', /not key:scope/],
    ['a key shorter than 32 characters', `${K1.slice(0, MIN_API_KEY_LENGTH - 1)}:read`, /entry 1 has a key of 31 characters; keys must have at least 32/],
  ])('refuses %s without echoing the key', (_label, text, message) => {
    expect(() => parseApiKeys(text)).toThrow(message);
    expect(() => parseApiKeys(text)).toThrow(expect.not.objectContaining({ message: expect.stringContaining('key1') }));
  });

  it('accepts a key of exactly 32 characters, and names which entry is too short', () => {
    expect(parseApiKeys(`${'k'.repeat(32)}:read`)).toHaveLength(1);
    expect(() => parseApiKeys(`${K1}:read;short-key:submit`)).toThrow(/entry 2 has a key of 9 characters/);
  });

  it('401 without a key or with a wrong one, 403 without the scope', () => {
    const keys = parseApiKeys(`${READER}:read`) ?? [];
    expect(() => authorize(keys, undefined, 'read')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED', httpStatus: 401 }));
    expect(() => authorize(keys, READER.slice(0, -1), 'read')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED', httpStatus: 401 }));
    expect(() => authorize(keys, READER, 'submit')).toThrow(expect.objectContaining({ code: 'FORBIDDEN', httpStatus: 403 }));
  });

  it('takes the key from Authorization: Bearer or X-API-Key', () => {
    expect(presentedKey({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedKey({ authorization: 'bearer  abc ' })).toBe('abc');
    expect(presentedKey({ 'x-api-key': 'xyz' })).toBe('xyz');
    expect(presentedKey({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
  });
});

describe('API options from the environment', () => {
  it('defaults to 127.0.0.1:8080, 256 KiB bodies, keys off, bounded queues and timeouts', () => {
    expect(apiOptionsFromEnv({})).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      bodyLimit: 327_680,
      apiKeys: null,
      maxWaitMs: 10_000,
      maxPendingSubmits: 1000,
      submitTimeoutMs: 5000,
      maxBacklog: 5000,
      maxQueuedOrders: 2000,
      retryAfterSeconds: 2,
      requestTimeoutMs: 30_000,
      connectionTimeoutMs: 75_000,
      keepAliveTimeoutMs: 65_000,
      dbConnectTimeoutMs: 5000,
      channel: 'kafka',
    });
  });

  it('reads every knob and refuses nonsense with the variable named', () => {
    const options = apiOptionsFromEnv({
      STACKL_API_HOST: '0.0.0.0',
      STACKL_API_PORT: '0',
      STACKL_API_BODY_LIMIT: '4096',
      STACKL_API_KEYS: `${K1}:read`,
      STACKL_API_READY_MAX_LAG: '5',
      STACKL_API_MAX_PENDING_SUBMITS: '7',
      STACKL_API_SUBMIT_TIMEOUT_MS: '1500',
      STACKL_API_MAX_BACKLOG: '0',
      STACKL_API_MAX_QUEUED_ORDERS: '300',
      STACKL_API_BACKLOG_POLL_MS: '250',
      STACKL_API_RETRY_AFTER_S: '9',
      STACKL_API_PROTECT_DOCS: '1',
      STACKL_API_DB_CONNECT_TIMEOUT_MS: '800',
      STACKL_CHANNEL: 'redis',
    });
    expect(options).toMatchObject({ host: '0.0.0.0', port: 0, bodyLimit: 4096, readyMaxLag: 5, maxPendingSubmits: 7, submitTimeoutMs: 1500, maxBacklog: 0, maxQueuedOrders: 300, backlogPollMs: 250, retryAfterSeconds: 9, protectDocs: true, dbConnectTimeoutMs: 800, channel: 'redis' });
    expect(() => apiOptionsFromEnv({ STACKL_API_PORT: 'http' })).toThrow(/STACKL_API_PORT/);
    expect(() => apiOptionsFromEnv({ STACKL_API_BODY_LIMIT: '-1' })).toThrow(/STACKL_API_BODY_LIMIT/);
    expect(() => apiOptionsFromEnv({ STACKL_API_MAX_PENDING_SUBMITS: '0' })).toThrow(/STACKL_API_MAX_PENDING_SUBMITS must be an integer from 1/);
    expect(() => apiOptionsFromEnv({ STACKL_API_INSECURE: 'yes' })).toThrow(/STACKL_API_INSECURE must be 1 or 0/);
  });

  it('refuses settings that contradict each other', () => {
    expect(() => apiOptionsFromEnv({ STACKL_API_PROTECT_DOCS: '1' })).toThrow(/STACKL_API_PROTECT_DOCS=1 .* needs STACKL_API_KEYS/);
    expect(() => apiOptionsFromEnv({ STACKL_API_CONNECTION_TIMEOUT_MS: '10000' })).toThrow(/STACKL_API_CONNECTION_TIMEOUT_MS \(10000\) must be longer than the longest wait a request may ask for \(10000 ms\)/);
  });
});

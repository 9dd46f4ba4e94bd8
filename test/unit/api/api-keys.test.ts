import { describe, expect, it } from 'vitest';
import { authorize, parseApiKeys, presentedKey } from '../../../api/api-keys.js';
import { apiOptionsFromEnv } from '../../../api/options.js';

describe('STACKL_API_KEYS', () => {
  it('is off when unset or blank', () => {
    expect(parseApiKeys(undefined)).toBeNull();
    expect(parseApiKeys('  ')).toBeNull();
  });

  it('parses keys with their scopes, tolerating spaces and a trailing separator', () => {
    const keys = parseApiKeys(' key1:submit,read ; key2:operate;') ?? [];
    expect(keys.map((k) => [...k.scopes])).toEqual([['submit', 'read'], ['operate']]);
    expect(() => authorize(keys, 'key1', 'read')).not.toThrow();
    expect(() => authorize(keys, 'key2', 'operate')).not.toThrow();
  });

  it.each([
    ['a scope nobody knows', 'key1:submit,admin', /unknown scopes "admin"/],
    ['an entry without scopes', 'key1', /not key:scope/],
    ['an empty key', ':read', /not key:scope/],
  ])('refuses %s without echoing the key', (_label, text, message) => {
    expect(() => parseApiKeys(text)).toThrow(message);
    expect(() => parseApiKeys(text)).toThrow(expect.not.objectContaining({ message: expect.stringContaining('key1') }));
  });

  it('401 without a key or with a wrong one, 403 without the scope', () => {
    const keys = parseApiKeys('reader:read') ?? [];
    expect(() => authorize(keys, undefined, 'read')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED', httpStatus: 401 }));
    expect(() => authorize(keys, 'reade', 'read')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED', httpStatus: 401 }));
    expect(() => authorize(keys, 'reader', 'submit')).toThrow(expect.objectContaining({ code: 'FORBIDDEN', httpStatus: 403 }));
  });

  it('takes the key from Authorization: Bearer or X-API-Key', () => {
    expect(presentedKey({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedKey({ authorization: 'bearer  abc ' })).toBe('abc');
    expect(presentedKey({ 'x-api-key': 'xyz' })).toBe('xyz');
    expect(presentedKey({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
  });
});

describe('API options from the environment', () => {
  it('defaults to 127.0.0.1:8080, 256 KiB bodies, keys off', () => {
    expect(apiOptionsFromEnv({})).toMatchObject({ host: '127.0.0.1', port: 8080, bodyLimit: 327_680, apiKeys: null, maxWaitMs: 10_000 });
  });

  it('reads every knob and refuses nonsense with the variable named', () => {
    const options = apiOptionsFromEnv({ STACKL_API_HOST: '0.0.0.0', STACKL_API_PORT: '0', STACKL_API_BODY_LIMIT: '4096', STACKL_API_KEYS: 'k:read', STACKL_API_READY_MAX_LAG: '5' });
    expect(options).toMatchObject({ host: '0.0.0.0', port: 0, bodyLimit: 4096, readyMaxLag: 5 });
    expect(() => apiOptionsFromEnv({ STACKL_API_PORT: 'http' })).toThrow(/STACKL_API_PORT/);
    expect(() => apiOptionsFromEnv({ STACKL_API_BODY_LIMIT: '-1' })).toThrow(/STACKL_API_BODY_LIMIT/);
  });
});

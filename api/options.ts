// The API's own knobs, read from the environment next to core/config.ts's addresses.
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { parseApiKeys, type ApiKey } from './api-keys.js';

export interface ApiOptions {
  port: number;
  host: string;
  /** Largest request body accepted, in bytes (413 beyond); by default room for the largest payload plus 64 KiB. */
  bodyLimit: number;
  /** null: keys off, every route open (the local demo). */
  apiKeys: ApiKey[] | null;
  /** Longest a read-your-writes GET may wait for the projection, in ms. */
  maxWaitMs: number;
  /** /readyz fails while any partition's projection lag exceeds this many events. */
  readyMaxLag: number;
}

/** A body holds the payload and the task's options around it. */
const BODY_HEADROOM_BYTES = 64 * 1024;

export const defaultApiOptions: ApiOptions = {
  port: 8080,
  host: '127.0.0.1',
  bodyLimit: DEFAULT_MAX_PAYLOAD_BYTES + BODY_HEADROOM_BYTES,
  apiKeys: null,
  maxWaitMs: 10_000,
  readyMaxLag: 1000,
};

type Env = Record<string, string | undefined>;

/** `maxPayloadBytes` (STACKL_MAX_PAYLOAD_BYTES) sizes the default body limit. */
export function apiOptionsFromEnv(env: Env = process.env, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES): ApiOptions {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return value;
  };
  const host = env.STACKL_API_HOST?.trim() || defaultApiOptions.host;
  if (/\s/.test(host)) throw new ConfigError(`STACKL_API_HOST must be a host name or address, got "${host}"`);
  return {
    port: int('STACKL_API_PORT', defaultApiOptions.port, 0, 65535),
    host,
    bodyLimit: int('STACKL_API_BODY_LIMIT', maxPayloadBytes + BODY_HEADROOM_BYTES, 1024, 64 * 1024 * 1024),
    apiKeys: parseApiKeys(env.STACKL_API_KEYS),
    maxWaitMs: int('STACKL_API_MAX_WAIT_MS', defaultApiOptions.maxWaitMs, 0, 120_000),
    readyMaxLag: int('STACKL_API_READY_MAX_LAG', defaultApiOptions.readyMaxLag, 0, Number.MAX_SAFE_INTEGER),
  };
}

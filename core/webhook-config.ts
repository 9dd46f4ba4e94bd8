// Settings of webhook origins. The allowed hosts bound what a submitter can make STACKL
// call (the API and the broker refuse other targets, the notifier checks again): without
// them anyone with a submit key could aim the notifier at internal services (SSRF). The
// rest tunes the notifier role only.
import { ConfigError } from './errors.js';

type Env = Record<string, string | undefined>;

/** Loopback only: a deployment names the receivers it trusts. */
export const DEFAULT_WEBHOOK_HOSTS = ['127.0.0.1', 'localhost', '::1'] as const;

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$|^[0-9a-f:.]+$/;

/** A host as the allow list names it: lower case, an IPv6 literal without brackets. */
const normalHost = (host: string): string => host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');

/** A URL's host as the allow list names it. */
export function webhookHostOf(url: URL): string {
  return normalHost(url.hostname);
}

/** STACKL_WEBHOOK_ALLOWED_HOSTS: host names or IP literals, comma-separated. */
export function webhookHostsFrom(env: Env): string[] {
  const raw = env.STACKL_WEBHOOK_ALLOWED_HOSTS;
  if (raw === undefined) return [...DEFAULT_WEBHOOK_HOSTS];
  const hosts = raw
    .split(',')
    .map(normalHost)
    .filter((h) => h !== '');
  const bad = hosts.filter((h) => !HOST.test(h));
  if (hosts.length === 0 || bad.length > 0) {
    throw new ConfigError(`STACKL_WEBHOOK_ALLOWED_HOSTS must be host names or IP addresses separated by commas (no ports, no wildcards), got "${raw}"`);
  }
  return hosts;
}

export interface NotifierSettings {
  /** Signs every delivery (HMAC-SHA256); none: deliveries go unsigned and the notifier says so. */
  secret: string | undefined;
  /** One POST may take this long before it counts as failed. */
  timeoutMs: number;
  /** POSTs of one outcome before it is dead-lettered. */
  maxAttempts: number;
  /** Wait before the second POST; doubled for each one after, up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Outcomes delivered at once. */
  concurrency: number;
  hosts: string[];
}

function intFrom(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

export function notifierSettingsFrom(env: Env): NotifierSettings {
  // Empty counts as unset: `${STACKL_WEBHOOK_SECRET:-}` in a compose file passes an empty value.
  const secret = env.STACKL_WEBHOOK_SECRET === '' ? undefined : env.STACKL_WEBHOOK_SECRET;
  if (secret !== undefined && secret.length < 32) throw new ConfigError('STACKL_WEBHOOK_SECRET must be at least 32 characters');
  const initialBackoffMs = intFrom(env, 'STACKL_WEBHOOK_INITIAL_BACKOFF_MS', 1_000, 0, 600_000);
  return {
    secret,
    timeoutMs: intFrom(env, 'STACKL_WEBHOOK_TIMEOUT_MS', 10_000, 100, 600_000),
    maxAttempts: intFrom(env, 'STACKL_WEBHOOK_MAX_ATTEMPTS', 6, 1, 100),
    initialBackoffMs,
    maxBackoffMs: intFrom(env, 'STACKL_WEBHOOK_MAX_BACKOFF_MS', Math.max(30_000, initialBackoffMs), initialBackoffMs, 3_600_000),
    concurrency: intFrom(env, 'STACKL_WEBHOOK_CONCURRENCY', 16, 1, 1_000),
    hosts: webhookHostsFrom(env),
  };
}

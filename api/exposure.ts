// Safe by default: an API reachable from other machines must ask for keys. Without
// STACKL_API_KEYS every route (submit, cancel, read every payload) is open, which is fine
// on loopback (the local demo) and a hole anywhere else, so a non-loopback listen
// address without keys is refused unless STACKL_API_INSECURE=1 says it is meant.
import { isIP } from 'node:net';
import { ConfigError } from '../core/errors.js';

/**
 * Only addresses that cannot be reached from another machine. A host name other than
 * `localhost` counts as exposed: what it resolves to can change after the check.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  const version = isIP(bare);
  if (version === 4) return bare.startsWith('127.');
  if (version === 6) {
    const lower = bare.toLowerCase();
    if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped !== null && (mapped[1] ?? '').startsWith('127.');
  }
  return false;
}

export function checkExposure(options: { host: string; apiKeys: readonly unknown[] | null; insecure: boolean }): void {
  if (options.apiKeys !== null || options.insecure || isLoopbackHost(options.host)) return;
  throw new ConfigError(
    `STACKL_API_HOST=${options.host} is reachable from other machines and STACKL_API_KEYS is not set: set STACKL_API_KEYS, or STACKL_API_INSECURE=1 to serve every route without keys`,
  );
}

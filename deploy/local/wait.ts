import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../../core/errors.js';

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

/** Polls `check` every 200 ms until it returns true, or fails with `message`. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(200);
  }
  throw new ServiceUnavailableError('local-stack', message);
}

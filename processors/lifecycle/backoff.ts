import type { Backoff } from '../../schemas/index.js';

/**
 * The wait after the `failed`-th failure (1-based): initialMs × multiplier^(failed-1),
 * capped at maxMs. Rounded to whole milliseconds so deadlines stay integers (a
 * multiplier such as 1.5 yields fractions), and an overflowing power is just the cap.
 */
export function backoffDelay(backoff: Backoff, failed: number): number {
  const exponent = Math.max(0, failed - 1);
  const raw = backoff.initialMs * backoff.multiplier ** exponent;
  return Math.min(Math.round(raw), backoff.maxMs);
}

import type { Backoff } from '../../schemas/index.js';

/**
 * The wait after the `failed`-th failure (1-based): initialMs × multiplier^(failed-1),
 * capped at maxMs. Rounded to whole milliseconds so deadlines stay integers (a
 * multiplier such as 1.5 yields fractions). A zero first wait stays zero, and a power
 * that overflows is the cap: 0 × Infinity would otherwise be NaN, a deadline that
 * never fires (found by the property tests).
 */
export function backoffDelay(backoff: Backoff, failed: number): number {
  if (backoff.initialMs === 0) return 0;
  const exponent = Math.max(0, failed - 1);
  const raw = backoff.initialMs * backoff.multiplier ** exponent;
  return Number.isFinite(raw) ? Math.min(Math.round(raw), backoff.maxMs) : backoff.maxMs;
}

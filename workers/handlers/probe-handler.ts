// The probe's computation: wait `durationMs` (interruptible). Pure apart from the clock;
// used by demos, benchmarks and fault tests.
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves after `ms`, or rejects when `signal` aborts first. */
export async function work(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, { signal });
}

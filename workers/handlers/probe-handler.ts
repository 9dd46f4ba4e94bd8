// The probe's computation: wait `durationMs` (interruptible), then report the outcome
// the payload asked for. Pure apart from the clock; used by demos, benchmarks and
// fault tests.
import { setTimeout as sleep } from 'node:timers/promises';
import { probePayloadSchema, type ProbePayload } from '../../processors/lifecycle/index.js';

export function parseProbePayload(payload: string): ProbePayload {
  return probePayloadSchema.parse(JSON.parse(payload));
}

/** Resolves after `ms`, or rejects when `signal` aborts first. */
export async function work(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, { signal });
}

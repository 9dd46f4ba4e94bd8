// Requests written straight to task.requests, as a producer bypassing the API (and its
// checks) would: whatever SubmitTask body a test wants, encoded with the real schema.
import { eventId } from '../../processors/broker/ids.js';
import { encode, taskRequestSchema, type SubmitTask } from '../../schemas/index.js';

/** A probe submission with every option left to the broker, with `overrides` on top. */
export function submitBody(overrides: Partial<SubmitTask> = {}): SubmitTask {
  return {
    kind: 'probe',
    action: 'run',
    payload: '{"outcome":"succeed"}',
    origin: { type: 'none', target: null },
    idempotencyKey: null,
    timeoutMs: null,
    attemptTimeoutMs: null,
    heartbeatTimeoutMs: null,
    maxAttempts: null,
    retryBackoff: null,
    rollbackMaxAttempts: null,
    rollbackBackoff: null,
    ...overrides,
  };
}

/** The encoded SubmitTask record for `taskId`. */
export function rawSubmit(taskId: string, overrides: Partial<SubmitTask> = {}): Buffer {
  return encode(taskRequestSchema, { eventId: eventId(), taskId, sequence: 0, time: Date.now(), causationId: null, correlationId: null, type: 'SubmitTask', body: submitBody(overrides) });
}

/** A probe payload of exactly `bytes` bytes of compact JSON (its `ballast` is carried and ignored). */
export function probePayloadOf(bytes: number): string {
  const frame = '{"outcome":"succeed","ballast":""}';
  return `{"outcome":"succeed","ballast":"${'x'.repeat(bytes - frame.length)}"}`;
}

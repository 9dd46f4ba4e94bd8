import { z } from 'zod';
import { defineKind } from './define-kind.js';

/**
 * `probe`: a built-in diagnostic kind. Its worker does no real work; the payload says how
 * the attempt (and, when the task fails, its rollback) should end, so the whole lifecycle
 * (success, failure, timeout, rollback retries) can be exercised end to end.
 */
export const probePayloadSchema = z.strictObject({
  outcome: z.enum(['succeed', 'fail', 'hang']),
  /** How long the attempt pretends to work before it ends as `outcome`. */
  durationMs: z.number().int().min(0).max(3_600_000).optional(),
  /** How the rollback of a failed probe ends. */
  rollback: z.enum(['succeed', 'fail']).optional(),
  /** Pads a successful output with this many characters: to try output limits and record sizes. */
  outputBytes: z.number().int().min(0).max(64 * 1024 * 1024).optional(),
  /** Carried and ignored: to try payload limits and record sizes. */
  ballast: z.string().optional(),
});

export type ProbePayload = z.infer<typeof probePayloadSchema>;

export const probeKind = defineKind({
  name: 'probe',
  description: 'a diagnostic with no side effects: its payload says how it ends',
  actions: ['run'],
  payload: probePayloadSchema,
});

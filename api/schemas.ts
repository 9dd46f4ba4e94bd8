// The request and response shapes of the REST API, in zod: fastify validates with
// them and @fastify/swagger turns them into the OpenAPI document at /docs.
import { z } from 'zod';
import { MAX_DURATION_MS } from '../processors/lifecycle/index.js';
import { POSITION_PATTERN } from './position.js';

const duration = (min: number) => z.number().int().min(min).max(MAX_DURATION_MS);
const backoff = z
  .strictObject({ initialMs: duration(0), multiplier: z.number().min(1).max(1000), maxMs: duration(0) })
  .refine((b) => b.maxMs >= b.initialMs, { message: 'maxMs must not be below initialMs', path: ['maxMs'] });

const httpUrl = z.url({ protocol: /^https?$/ });
export const originSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none'), target: z.null().optional() }),
  z.strictObject({ type: z.literal('topic'), target: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'not a Kafka topic name') }),
  z.strictObject({ type: z.literal('webhook'), target: httpUrl.describe('http(s) URL on a host STACKL_WEBHOOK_ALLOWED_HOSTS names (loopback by default); the notifier POSTs the signed outcome there') }),
]);

export const submitBodySchema = z.strictObject({
  kind: z.string().min(1).max(200),
  action: z.string().min(1).max(200),
  // Any JSON; its shape is the kind's business (checked against the registry, 422).
  payload: z.unknown().describe('the task input; its schema depends on kind and action'),
  timeoutMs: duration(1).optional(),
  attemptTimeoutMs: duration(1).optional(),
  heartbeatTimeoutMs: duration(1).optional(),
  maxAttempts: z.number().int().min(1).max(1000).optional(),
  retryBackoff: backoff.optional(),
  rollbackMaxAttempts: z.number().int().min(1).max(1000).optional(),
  rollbackBackoff: backoff.optional(),
  // Not trimmed: the task id derives from the exact key, as for producers writing to Kafka directly.
  idempotencyKey: z.string().min(1).max(500).refine((key) => key.trim() !== '', 'must not be blank').optional(),
  origin: originSchema.optional(),
  correlationId: z.string().min(1).max(200).optional(),
});
export type SubmitBody = z.infer<typeof submitBodySchema>;

export const operatorBodySchema = z.strictObject({ reason: z.string().max(2000).optional(), requestedBy: z.string().max(200).optional() }).nullish();

/** Checked by the handler, not here, so a bad id answers INVALID_TASK_ID rather than VALIDATION_FAILED. */
export const taskIdParamsSchema = z.strictObject({ id: z.string().describe('task id (UUID)') });

export const readQuerySchema = z.strictObject({
  minPosition: z.string().regex(POSITION_PATTERN, 'expected <partition>:<offset>').optional().describe('wait until the projection has seen this submit'),
  waitMs: z.coerce.number().int().min(0).max(600_000).optional().describe('longest wait for minPosition (capped by the server)'),
});

export const TASK_STATUSES = ['Available', 'InProgress', 'Completed', 'Failed', 'Rejected'] as const;
export const ROLLBACK_STATUSES = ['pending', 'running', 'done', 'failed'] as const;

export const listQuerySchema = z.strictObject({
  status: z.enum(TASK_STATUSES).optional(),
  kind: z.string().min(1).max(200).optional(),
  rollback: z.enum(ROLLBACK_STATUSES).optional(),
  origin: z.string().min(1).max(2000).optional().describe("the origin's target (reply topic or webhook URL)"),
  createdAfter: z.iso.datetime({ offset: true }).optional().describe('inclusive'),
  createdBefore: z.iso.datetime({ offset: true }).optional().describe('exclusive'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(400).optional(),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export const receiptSchema = z.object({ id: z.string(), position: z.string().describe('<partition>:<offset> of the command in task.requests') });

const failureSchema = z.object({ reason: z.string(), message: z.string().nullable() }).nullable();
export const taskSchema = z.object({
  id: z.string(),
  kind: z.string().nullable().describe('null only for a rejected submission'),
  action: z.string().nullable(),
  status: z.string().describe('Available, InProgress, Completed, Failed, or Rejected'),
  rollback: z.string().nullable().describe('pending, running, done or failed once a task failed'),
  failure: failureSchema,
  rejection: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
  attempts: z.number(),
  maxAttempts: z.number().nullable(),
  workerId: z.string().nullable(),
  progress: z.object({ percent: z.number(), message: z.string().nullable() }).nullable(),
  attemptError: z.string().nullable().describe('why the last failed attempt failed'),
  retryAt: z.string().nullable(),
  rollbackAttempts: z.number(),
  rollbackError: z.string().nullable(),
  origin: z.object({ type: z.string(), target: z.string().nullable() }).nullable(),
  idempotencyKey: z.string().nullable(),
  payload: z.unknown(),
  output: z.unknown(),
  deadlineAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  sequence: z.number().describe('per-task sequence of the last event applied'),
});
export type TaskBody = z.infer<typeof taskSchema>;

export const taskListSchema = z.object({ items: z.array(taskSchema), nextCursor: z.string().nullable() });

export const taskEventSchema = z.object({
  partition: z.number(),
  offset: z.string().describe('where the event sits in task.events'),
  sequence: z.number(),
  eventId: z.string(),
  type: z.string(),
  attempt: z.number().nullable(),
  rollbackAttempt: z.number().nullable(),
  time: z.string(),
  body: z.unknown(),
  correlationId: z.string().nullable(),
});
export type TaskEventBody = z.infer<typeof taskEventSchema>;
export const taskEventsSchema = z.object({ id: z.string(), items: z.array(taskEventSchema) });

export const problemSchema = z.looseObject({ type: z.string(), title: z.string(), status: z.number(), detail: z.string(), code: z.string() });

// What workers and agents say to each other over the channel: an agent job (apply or
// remove one resource of a stack on one infrastructure target) and the agent's reply.
// JSON in and out, as the seed's MC asks; validated here so a malformed message is
// refused by name instead of half-applied.
import { z } from 'zod';

const nameSegment = /^[a-z0-9][a-z0-9._-]*$/;

export const agentJobSchema = z.strictObject({
  jobId: z.uuid(),
  taskId: z.uuid(),
  /** The fencing token: the attempt (or, for a compensation, the attempt it undoes). */
  attempt: z.number().int().min(1),
  /** A compensating job undoes the task's own earlier job and fences the task at the environment. */
  compensation: z.boolean(),
  op: z.enum(['apply', 'remove']),
  target: z.string().regex(nameSegment).max(128),
  /** `<stack>/<service>`. */
  resource: z.string().regex(/^[a-z0-9][a-z0-9_-]*\/[a-z0-9][a-z0-9_-]*$/).max(256),
  spec: z.record(z.string(), z.unknown()).nullable(),
  /** Who waits for the reply (a worker id). */
  replyTo: z.string().min(1).max(200),
  /** After this the task has moved on: the job is dropped unapplied. */
  deadlineAt: z.number().int(),
});

export const agentReplySchema = z.strictObject({
  jobId: z.uuid(),
  taskId: z.uuid(),
  agent: z.string(),
  target: z.string(),
  /** `skipped`: a compensation found the resource changed by another task since, and left it. */
  status: z.enum(['applied', 'removed', 'unchanged', 'skipped', 'refused', 'failed']),
  message: z.string().nullable(),
});

export type AgentJob = z.infer<typeof agentJobSchema>;
export type AgentReply = z.infer<typeof agentReplySchema>;
export type AgentJobRequest = Omit<AgentJob, 'jobId' | 'replyTo'>;

/** A reply that means the job's effect is in place (or, for a compensation, undone). */
export function replySucceeded(reply: AgentReply): boolean {
  return reply.status === 'applied' || reply.status === 'removed' || reply.status === 'unchanged' || reply.status === 'skipped';
}

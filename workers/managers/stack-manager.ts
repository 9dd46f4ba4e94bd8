// The `stack` kind: places the services (handlers/placement.ts), records the instance
// in the datastore, journals every place it will change, then sends one agent job per
// service × target and waits for all. Rollback fences the task in the datastore and
// restores the instance, then sends the compensating jobs (tear down what the task
// created, re-apply the previous instance where it changed or removed it).
import { isStacklError } from '../../core/errors.js';
import { instantiateTemplate, TEMPLATE_PREFIX } from '../../processors/lifecycle/kinds/stack-template.js';
import { stackDeletePayloadSchema, stackKind, stackSourcePayloadSchema, targetBodySchema, type StackService, type StackSourcePayload } from '../../processors/lifecycle/kinds/stack.js';
import type { AgentJobClient } from '../../channels/agent-channel.js';
import { replySucceeded, type AgentReply } from '../../channels/agent-messages.js';
import type { TaskSpec } from '../../schemas/index.js';
import type { DocumentStore } from '../datastore/document-store.js';
import { placeServices, type Target } from '../handlers/placement.js';
import { implement, type ServedKind } from '../implement.js';
import { TaskFailure } from '../task-failure.js';
import { compensatingJobs, instanceKey, journalEntry, TARGET_PREFIX, transitionJobs, type PlannedJob, type StackInstance } from './stack-plan.js';

class AttemptFailure extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
  ) {
    super(message);
  }
}

export function createStackKind(store: DocumentStore, agents: AgentJobClient): ServedKind {
  /** Sends the jobs and waits for every reply; throws with every failure named. */
  async function runJobs(task: TaskSpec, attempt: number, compensation: boolean, jobs: PlannedJob[], deadlineAt: number, signal: AbortSignal): Promise<AgentReply[]> {
    const replies = await Promise.all(jobs.map((job) => agents.request({ ...job, taskId: task.id, attempt, compensation, deadlineAt }, signal)));
    const failed = replies.filter((r) => !replySucceeded(r));
    if (failed.length > 0) {
      const refusedOnly = failed.every((r) => r.status === 'refused');
      throw new AttemptFailure(failed.map((r) => `${r.target}: ${r.status}${r.message === null ? '' : ` (${r.message})`}`).join('; '), !refusedOnly);
    }
    return replies;
  }

  async function targets(): Promise<Target[]> {
    const documents = await store.list(TARGET_PREFIX);
    return documents.flatMap((d) => {
      const body = targetBodySchema.safeParse(d.body);
      return body.success ? [{ name: d.key.slice(TARGET_PREFIX.length), ...body.data }] : [];
    });
  }

  /** The services as given, or instantiated from their template as it is now. */
  async function servicesOf(source: StackSourcePayload): Promise<StackService[]> {
    if ('services' in source) return source.services;
    const template = await store.get(`${TEMPLATE_PREFIX}${source.template}`);
    if (template === undefined) throw new AttemptFailure(`stack template "${source.template}" does not exist (document ${TEMPLATE_PREFIX}${source.template})`, false);
    const instantiated = instantiateTemplate(source.template, template.body, source.parameters);
    if (!instantiated.ok) throw new AttemptFailure(`cannot instantiate stack template "${source.template}": ${instantiated.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, false);
    return instantiated.services;
  }

  async function attempt(task: TaskSpec, attemptNo: number, deadlineAt: number, signal: AbortSignal): Promise<unknown> {
    const writer = { taskId: task.id, attempt: attemptNo };
    const payload: unknown = JSON.parse(task.payload);
    const stack = task.action === 'delete' ? stackDeletePayloadSchema.parse(payload).name : stackSourcePayloadSchema.parse(payload).name;
    const key = instanceKey(stack);
    const current = await store.get(key);
    // The instance before this task: its snapshot if an earlier attempt already wrote.
    const snapshot = await store.snapshotOf(task.id, key);
    const previous = (snapshot === undefined ? (current?.body ?? null) : snapshot.body) as StackInstance | null;
    let next: StackInstance | null = null;
    if (task.action === 'create' || task.action === 'update') {
      const services = await servicesOf(stackSourcePayloadSchema.parse(payload));
      if (task.action === 'update' && previous === null) throw new AttemptFailure(`stack "${stack}" does not exist`, false);
      const placed = placeServices(services, await targets());
      if (!placed.ok) throw new AttemptFailure(`cannot place stack "${stack}": ${placed.reason}`, false);
      next = { services, placement: placed.placement };
    } else if (previous === null) {
      throw new AttemptFailure(`stack "${stack}" does not exist`, false);
    }
    const jobs = transitionJobs(stack, previous, next, await store.journalOf(task.id));
    await store.write(writer, next === null ? { op: 'delete', key } : { op: task.action === 'create' ? 'create' : 'update', key, body: next as unknown as Record<string, unknown> });
    await store.journal(writer, jobs.map(journalEntry));
    signal.throwIfAborted();
    const replies = await runJobs(task, attemptNo, false, jobs, deadlineAt, signal);
    return { stack, placement: next?.placement ?? [], jobs: replies.length };
  }

  return implement(stackKind, {
    async run(_payload, { task, attempt: attemptNo, deadlineAt, signal }) {
      try {
        return await attempt(task, attemptNo, deadlineAt, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        if (error instanceof AttemptFailure) throw new TaskFailure(error.message, { retriable: error.retriable });
        if (isStacklError(error) && !error.retriable) throw new TaskFailure(`${error.message} (${error.code})`, { retriable: false });
        if (error instanceof Error && error.name === 'ZodError') throw new TaskFailure(`invalid stack task: ${error.message}`, { retriable: false });
        throw error;
      }
    },

    async rollback(_payload, { task, failedAttempt, deadlineAt, signal }) {
      const payload: unknown = JSON.parse(task.payload);
      const stack = (task.action === 'delete' ? stackDeletePayloadSchema : stackSourcePayloadSchema).parse(payload).name;
      // Fence first: from here no attempt of this task journals or writes anything more.
      await store.rollback(task.id, failedAttempt);
      const snapshot = await store.snapshotOf(task.id, instanceKey(stack));
      const previous = (snapshot === undefined ? (await store.get(instanceKey(stack)))?.body ?? null : snapshot.body) as StackInstance | null;
      const jobs = compensatingJobs(stack, previous, await store.journalOf(task.id));
      try {
        await runJobs(task, Math.max(failedAttempt, 1), true, jobs, deadlineAt, signal);
      } catch (error) {
        if (error instanceof AttemptFailure) throw new TaskFailure(`compensation failed: ${error.message}`);
        throw error;
      }
    },
  });
}

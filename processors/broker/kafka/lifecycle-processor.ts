// The lifecycle decider as a stream processor: decodes a request or result, asks the
// decider what happened, folds the events into the task's state, and writes each
// event (numbered by the task's sequence) plus its effects: work orders on
// task.dispatch (runs) or task.rollbacks (undos, which workers take first), the
// outcome to the task's origin (a reply topic, or an order to the notifier on
// task.notifications for a webhook), a tombstone when the task is done.
import { StacklError } from '../../../core/errors.js';
import { TRACEPARENT, validTraceparent } from '../../../core/trace-context.js';
import {
  decode,
  encode,
  taskDispatchSchema,
  taskEventSchema,
  taskRequestSchema,
  taskResultSchema,
  type Envelope,
  type Origin,
} from '../../../schemas/index.js';
import { DLQ_HEADERS, failureHeaders } from '../../../topics/dead-letter.js';
import type { TopicNames } from '../../../topics/names.js';
import {
  bounded,
  decide,
  effects,
  evolve,
  initialState,
  nextDeadline,
  retiredState,
  sequenceOf,
  liveOutcome,
  rejectedOutcome,
  webhookProblem,
  type DecideContext,
  type LifecycleEvent,
  type LifecycleInput,
  type TaskState,
} from '../../lifecycle/index.js';
import { describeFailure } from '../../runtime/failures.js';
import type { ProcessContext, StreamProcessor } from '../../runtime/types.js';
import { eventId } from '../ids.js';
import type { OriginTopics } from './origin-topics.js';
import type { SubmitAdmission } from './submit-admission.js';

export interface LifecycleProcessorOptions {
  topics: TopicNames;
  decider: Omit<DecideContext, 'now'>;
  originTopics: OriginTopics;
  /** Refuses new tasks under overload; absent: every valid submission is taken. */
  admission?: SubmitAdmission;
  /**
   * Reads the kind registry up to what was written before `writtenAt` when a submission
   * names a kind `decider.kinds` lacks (the registry's map, which this fills), so a task
   * submitted right after its worker registered is not refused. Absent: kinds are fixed.
   */
  learnKind?: (kind: string, writtenAt: number) => Promise<unknown>;
}

export function lifecycleProcessor(options: LifecycleProcessorOptions): StreamProcessor<TaskState> {
  const { topics } = options;

  async function apply(ctx: ProcessContext<TaskState>, taskId: string, input: LifecycleInput, cause: Envelope | null, shedding?: string): Promise<void> {
    // An id expunged within the idempotency window is spent: the runtime remembers it.
    let state = ctx.get(taskId) ?? (ctx.isRetired(taskId) ? retiredState : initialState);
    const rollbackQueueWaitMs = options.admission?.rollbackQueueWaitMs() ?? 0;
    const decided = decide(input, state, { ...options.decider, now: ctx.now, rollbackQueueWaitMs, ...(shedding === undefined ? {} : { shedding }) });
    const envelopeFor = (current: TaskState): Envelope => ({
      eventId: eventId(),
      taskId,
      sequence: sequenceOf(current),
      time: ctx.now,
      causationId: cause?.eventId ?? null,
      correlationId: cause?.correlationId ?? cause?.eventId ?? null,
    });
    let expunge = false;
    // Replies that could not go out become events of their own, after the ones decided.
    const undelivered: LifecycleEvent[] = [];
    for (const event of decided) {
      // The same defaults as decide: evolve stamps the expunge time with their grace period.
      state = evolve(state, event, ctx.now, options.decider.defaults);
      const envelope = envelopeFor(state);
      const value = encode(taskEventSchema, { ...envelope, ...event });
      // A submitter's W3C traceparent rides beside the records too, for tools that read headers.
      const traceparent = validTraceparent(envelope.correlationId);
      const headers = traceparent === undefined ? {} : { headers: { [TRACEPARENT]: traceparent } };
      ctx.send({ topic: topics.events, key: taskId, value, partition: ctx.partition, ...headers });
      // The input lets a rejection reply to the origin named in the refused submission.
      for (const effect of effects(event, state, input)) {
        switch (effect.type) {
          case 'dispatch':
            ctx.send({
              topic: effect.body.type === 'RunRollback' ? topics.rollbacks : topics.dispatch,
              key: taskId,
              partition: ctx.partition,
              value: encode(taskDispatchSchema, { ...envelope, eventId: eventId(), causationId: envelope.eventId, ...effect.body }),
              ...headers,
            });
            break;
          case 'reply': {
            const failure =
              effect.origin.type === 'webhook'
                ? notifyWebhook(ctx, effect.origin.target ?? '', { ...envelope, eventId: eventId(), causationId: envelope.eventId }, event, state, input)
                : await replyToOrigin(ctx, effect.origin, taskId, value);
            if (failure !== null) undelivered.push({ type: 'ReplyUndelivered', body: { target: effect.origin.target ?? '', ...failure } });
            break;
          }
          case 'expunge':
            expunge = true;
            break;
          default:
            effect satisfies never;
        }
      }
    }
    for (const event of undelivered) {
      state = evolve(state, event, ctx.now, options.decider.defaults);
      ctx.send({ topic: topics.events, key: taskId, value: encode(taskEventSchema, { ...envelopeFor(state), ...event }), partition: ctx.partition });
    }
    if (expunge) {
      ctx.retire(taskId);
    } else if (state.phase === 'Absent' || state.phase === 'Retired') {
      if (ctx.get(taskId) !== undefined) ctx.delete(taskId);
    } else if (decided.length > 0) {
      ctx.put(taskId, state);
    }
  }

  /**
   * A webhook's outcome is an order to the notifier, written in this transaction: the
   * notifier delivers it at least once, signed, and never holds up this partition. Like a
   * reply, an order that cannot be written goes to the dead-letter topic instead.
   */
  function notifyWebhook(ctx: ProcessContext<TaskState>, target: string, envelope: Envelope, event: LifecycleEvent, after: TaskState, input: LifecycleInput): { code: string; message: string } | null {
    let document: string | null = null;
    if (after.phase === 'Live') document = liveOutcome(envelope.eventId, event, after, ctx.now);
    else if (event.type === 'TaskRejected' && input.type === 'command' && input.message.type === 'SubmitTask') {
      document = rejectedOutcome(envelope.eventId, envelope.taskId, input.message.body, event.body, ctx.now);
    }
    if (document === null) return null;
    const value = encode(taskDispatchSchema, { ...envelope, type: 'DeliverOutcome', body: { target, document } });
    // The decider refused hosts outside the allow list at submission; a list since narrowed still holds here.
    const refusedHost = webhookProblem(target, options.decider.limits);
    const failure = refusedHost === null ? refusedByKafka(ctx, `the webhook order for ${bounded(target, 200)}`) : new StacklError('WEBHOOK_HOST_NOT_ALLOWED', refusedHost);
    return sendOrDeadLetter(ctx, { topic: topics.notifications, partition: ctx.partition }, envelope.taskId, value, target, failure);
  }

  /** Why this transaction may not write the record again: Kafka refused it on the last try. */
  function refusedByKafka(ctx: ProcessContext<TaskState>, what: string): StacklError | null {
    if (ctx.refusal === undefined) return null;
    const refused = describeFailure(ctx.refusal);
    return new StacklError(refused.code, `Kafka refused ${what}: ${refused.message}`);
  }

  /**
   * An outcome to where it goes, or, when it cannot go there, to the dead-letter topic with
   * the reason and the target in headers; then the failure, for a ReplyUndelivered event.
   */
  function sendOrDeadLetter(ctx: ProcessContext<TaskState>, to: { topic: string; partition?: number }, taskId: string, value: Buffer, target: string, failure: StacklError | null): { code: string; message: string } | null {
    if (failure === null) {
      ctx.send({ ...to, key: taskId, value });
      return null;
    }
    ctx.send({ topic: topics.dlq, key: taskId, value, headers: { ...failureHeaders(failure), [DLQ_HEADERS.replyTarget]: target } });
    return { code: failure.code, message: bounded(failure.message) };
  }

  /**
   * The event that ended the task goes to the reply topic. A reply that cannot go out never blocks the partition: it goes
   * to the dead-letter topic with the reason, and the caller records the failure as an event.
   */
  async function replyToOrigin(ctx: ProcessContext<TaskState>, origin: Origin, taskId: string, value: Buffer): Promise<{ code: string; message: string } | null> {
    if (origin.type !== 'topic' || origin.target === null) return null;
    let failure = refusedByKafka(ctx, `the reply to ${origin.target}`);
    if (failure === null && !(await options.originTopics.exists(origin.target))) {
      failure = new StacklError('ORIGIN_TOPIC_MISSING', `reply topic ${origin.target} does not exist`);
    }
    return sendOrDeadLetter(ctx, { topic: origin.target }, taskId, value, origin.target, failure);
  }

  return {
    async onRecord(ctx, record) {
      const key = record.key?.toString() ?? '';
      if (record.topic === topics.requests) {
        const message = await decode(record.value ?? Buffer.alloc(0), taskRequestSchema);
        checkKey(key, message.taskId);
        if (message.type === 'SubmitTask' && !options.decider.kinds.has(message.body.kind)) await options.learnKind?.(message.body.kind, Number(record.timestamp));
        // Asked only for a submission of a task this partition does not hold yet.
        const shedding = message.type === 'SubmitTask' && ctx.get(key) === undefined && !ctx.isRetired(key) ? options.admission?.verdict(Number(record.timestamp), ctx.now, message.body.timeoutMs ?? options.decider.defaults.timeoutMs) : undefined;
        await apply(ctx, key, { type: 'command', message }, message, shedding);
      } else if (record.topic === topics.results) {
        const message = await decode(record.value ?? Buffer.alloc(0), taskResultSchema);
        checkKey(key, message.taskId);
        await apply(ctx, key, { type: 'result', message }, message);
      } else {
        throw new StacklError('UNEXPECTED_TOPIC', `the lifecycle processor does not read ${record.topic}`);
      }
    },
    async onDeadline(ctx, key) {
      await apply(ctx, key, { type: 'tick' }, null);
    },
    deadlineOf: (state) => nextDeadline(state),
  };
}

function checkKey(key: string, taskId: string): void {
  if (key !== taskId) throw new StacklError('KEY_MISMATCH', `record key "${bounded(key, 100)}" is not the envelope's task id "${taskId}"`);
}

// The lifecycle decider as a stream processor: decodes a request or result, asks the
// decider what happened, folds the events into the task's state, and writes each
// event (numbered by the task's sequence) plus its effects: work orders on
// task.dispatch, the outcome to the task's origin, a tombstone when the task is done.
import { StacklError } from '../../../core/errors.js';
import {
  decode,
  encode,
  taskDispatchSchema,
  taskEventSchema,
  taskRequestSchema,
  taskResultSchema,
  type Envelope,
} from '../../../schemas/index.js';
import { failureHeaders } from '../../../topics/dead-letter.js';
import type { TopicNames } from '../../../topics/names.js';
import {
  decide,
  effects,
  evolve,
  initialState,
  nextDeadline,
  type DecideContext,
  type LifecycleInput,
  type TaskState,
} from '../../lifecycle/index.js';
import type { ProcessContext, StreamProcessor } from '../../runtime/types.js';
import { eventId } from '../ids.js';
import type { OriginTopics } from './origin-topics.js';

export interface LifecycleProcessorOptions {
  topics: TopicNames;
  decider: Omit<DecideContext, 'now'>;
  originTopics: OriginTopics;
}

export function lifecycleProcessor(options: LifecycleProcessorOptions): StreamProcessor<TaskState> {
  const { topics } = options;

  async function apply(ctx: ProcessContext<TaskState>, taskId: string, input: LifecycleInput, cause: Envelope | null): Promise<void> {
    let state = ctx.get(taskId) ?? initialState;
    const events = decide(input, state, { ...options.decider, now: ctx.now });
    let expunge = false;
    for (const event of events) {
      // The same defaults as decide: evolve stamps the expunge time with their grace period.
      state = evolve(state, event, ctx.now, options.decider.defaults);
      const envelope: Envelope = {
        eventId: eventId(),
        taskId,
        sequence: state.phase === 'Absent' ? 0 : state.sequence,
        time: ctx.now,
        causationId: cause?.eventId ?? null,
        correlationId: cause?.correlationId ?? cause?.eventId ?? null,
      };
      const value = encode(taskEventSchema, { ...envelope, ...event });
      ctx.send({ topic: topics.events, key: taskId, value, partition: ctx.partition });
      // The input lets a rejection reply to the origin named in the refused submission.
      for (const effect of effects(event, state, input)) {
        switch (effect.type) {
          case 'dispatch':
            ctx.send({
              topic: topics.dispatch,
              key: taskId,
              partition: ctx.partition,
              value: encode(taskDispatchSchema, { ...envelope, eventId: eventId(), causationId: envelope.eventId, ...effect.body }),
            });
            break;
          case 'reply':
            await replyToOrigin(ctx, effect.origin, taskId, value);
            break;
          case 'expunge':
            expunge = true;
            break;
          default:
            effect satisfies never;
        }
      }
    }
    if (expunge || state.phase === 'Absent') {
      if (ctx.get(taskId) !== undefined) ctx.delete(taskId);
    } else if (events.length > 0) {
      ctx.put(taskId, state);
    }
  }

  /** The event that ended the task goes to the reply topic; webhooks are delivered by a relay (not yet built). */
  async function replyToOrigin(ctx: ProcessContext<TaskState>, origin: { type: string; target: string | null }, taskId: string, value: Buffer): Promise<void> {
    if (origin.type !== 'topic' || origin.target === null) return;
    if (await options.originTopics.exists(origin.target)) {
      ctx.send({ topic: origin.target, key: taskId, value });
    } else {
      // A missing reply topic must not block the partition: keep the outcome in the DLQ.
      const missing = new StacklError('ORIGIN_TOPIC_MISSING', `reply topic ${origin.target} does not exist`);
      ctx.send({ topic: topics.dlq, key: taskId, value, headers: failureHeaders(missing) });
    }
  }

  return {
    async onRecord(ctx, record) {
      const key = record.key?.toString() ?? '';
      if (record.topic === topics.requests) {
        const message = await decode(record.value ?? Buffer.alloc(0), taskRequestSchema);
        checkKey(key, message.taskId);
        await apply(ctx, key, { type: 'command', message }, message);
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
  if (key !== taskId) throw new StacklError('KEY_MISMATCH', `record key "${key}" is not the envelope's task id "${taskId}"`);
}

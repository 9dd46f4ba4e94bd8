// The counter app of counter-app.ts with the faults the runtime must survive, switched
// on by the record's value: outputs Kafka refuses, a topic nobody may write, transient
// errors from a dependency, and timer handlers that fail. Faults are counted here so a
// test can tell that they really happened.
import kafkajs, { type Kafka } from 'kafkajs';
import type { StreamApp, StreamAppOptions } from '../../../processors/runtime/stream-app.js';
import type { StreamProcessor } from '../../../processors/runtime/types.js';
import { describeFailure } from '../../../processors/runtime/failures.js';
import { counterProcessor, countingApp, type Count, type CounterTopics } from './counter-app.js';

export interface HostileTopics extends CounterTopics {
  /** A topic with a small max.message.bytes, standing for a user's reply topic. */
  reply: string;
}

export class Faults {
  /** Key → how many more times its record throws a transient error. */
  readonly transient = new Map<string, number>();
  /** Key → how many more times its deadline handler throws. */
  readonly failingTimers = new Map<string, number>();
  transientThrown = 0;
  timerThrown = 0;
  refusalsSeen = 0;
}

/**
 * Values: `big:<n>` writes n bytes to the output topic; `to:<topic>` writes to that topic;
 * `reply:<n>` writes n bytes to the reply topic, or, told of a refusal, a note to the output
 * topic instead; `transient` throws a kafkajs connection error while `faults.transient` says
 * so; anything else counts as counter-app.ts does.
 */
export function hostileProcessor(topics: HostileTopics, faults: Faults, ttlMs: number): StreamProcessor<Count> {
  const counter = counterProcessor(topics, ttlMs);
  return {
    async onRecord(ctx, record) {
      const key = record.key?.toString() ?? '';
      const value = record.value?.toString() ?? '';
      const [verb, argument = ''] = value.split(':', 2);
      if (verb === 'transient' && (faults.transient.get(key) ?? 0) > 0) {
        faults.transient.set(key, (faults.transient.get(key) ?? 0) - 1);
        faults.transientThrown += 1;
        throw new kafkajs.KafkaJSConnectionError('Connection error: the cluster blinked (injected)');
      }
      if (verb === 'big') return ctx.send({ topic: topics.output, key, value: Buffer.alloc(Number(argument), 'x') });
      if (verb === 'to') return ctx.send({ topic: argument, key, value: Buffer.from('hostile') });
      if (verb === 'reply') {
        if (ctx.refusal === undefined) return ctx.send({ topic: topics.reply, key, value: Buffer.alloc(Number(argument), 'y') });
        faults.refusalsSeen += 1;
        return ctx.send({ topic: topics.output, key, value: Buffer.from(`reply-refused:${describeFailure(ctx.refusal).code}`), partition: ctx.partition });
      }
      return counter.onRecord(ctx, record);
    },
    async onDeadline(ctx, key) {
      if ((faults.failingTimers.get(key) ?? 0) > 0) {
        faults.failingTimers.set(key, (faults.failingTimers.get(key) ?? 0) - 1);
        faults.timerThrown += 1;
        throw new Error('the timer handler failed (injected)');
      }
      return counter.onDeadline(ctx, key);
    },
    deadlineOf: counter.deadlineOf,
  };
}

export function hostileApp(kafka: Kafka, topics: HostileTopics, partitions: number, groupId: string, faults: Faults, options: Partial<StreamAppOptions<Count>> & { ttlMs?: number } = {}): StreamApp<Count> {
  const { ttlMs = 3_600_000, ...rest } = options;
  return countingApp(kafka, topics, partitions, groupId, hostileProcessor(topics, faults, ttlMs), { tickIntervalMs: 20, ...rest });
}

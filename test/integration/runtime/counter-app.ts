// A small app on the stream runtime for its tests: counts records per key, echoes each
// record with its running count, dead-letters values "poison", and expires a key
// `ttlMs` after its last record (a timer inside the transaction, with an output).
import type { Kafka } from 'kafkajs';
import { StacklError } from '../../../core/errors.js';
import { StreamApp, type StreamAppOptions } from '../../../processors/runtime/stream-app.js';
import type { StreamProcessor } from '../../../processors/runtime/types.js';

export interface Count {
  count: number;
  expiresAt: number;
}

export interface CounterTopics {
  input: string;
  output: string;
  changelog: string;
  dlq: string;
}

export function counterProcessor(topics: CounterTopics, ttlMs: number): StreamProcessor<Count> {
  return {
    onRecord(ctx, record) {
      const key = record.key?.toString() ?? '';
      if (record.value?.toString() === 'poison') throw new StacklError('POISON', 'this record is poison');
      const count = (ctx.get(key)?.count ?? 0) + 1;
      ctx.put(key, { count, expiresAt: ctx.now + ttlMs });
      ctx.send({ topic: topics.output, key, value: Buffer.from(`${record.value?.toString()}:${count}`), partition: ctx.partition });
    },
    onDeadline(ctx, key) {
      const current = ctx.get(key);
      if (current === undefined || current.expiresAt > ctx.now) return;
      ctx.delete(key);
      ctx.send({ topic: topics.output, key, value: Buffer.from(`expired:${current.count}`), partition: ctx.partition });
    },
    deadlineOf: (value) => value.expiresAt,
  };
}

export function counterApp(kafka: Kafka, topics: CounterTopics, partitions: number, groupId: string, ttlMs = 3_600_000): StreamApp<Count> {
  return countingApp(kafka, topics, partitions, groupId, counterProcessor(topics, ttlMs));
}

/** A stream app of counts (JSON in the changelog) over the test's topics, running `processor`. */
export function countingApp(kafka: Kafka, topics: CounterTopics, partitions: number, groupId: string, processor: StreamProcessor<Count>, options: Partial<StreamAppOptions<Count>> = {}): StreamApp<Count> {
  return new StreamApp<Count>({
    kafka,
    groupId,
    inputTopics: [topics.input],
    changelogTopic: topics.changelog,
    dlqTopic: topics.dlq,
    partitions,
    transactionalIdOf: (p) => `${groupId}-${p}`,
    processor,
    serde: { encode: (v) => Buffer.from(JSON.stringify(v)), decode: (b) => JSON.parse(b.toString()) as Count },
    ...options,
  });
}

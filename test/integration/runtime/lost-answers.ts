// Answers from Kafka lost on their way back, for the runtime's tests: the broker carried
// the request out, the client hears of a broken connection, as when a connection drops in
// the middle of a transaction.
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { vi } from 'vitest';
import { CommitOutcomeUnknownError, PartitionProducer } from '../../../processors/runtime/partition-producer.js';

const require = createRequire(import.meta.url);
/** kafkajs' broker connection class, whose requests the tests patch. */
export const Broker = require('kafkajs/src/broker/index.js') as { prototype: { produce: (...args: unknown[]) => Promise<unknown> } };

export interface LostAnswer {
  /** How many answers were lost so far (0 or 1). */
  lost(): number;
  restore(): void;
}

/** The first produce request with records for `topic` is written, then its answer is lost. */
export function loseOneProduceAnswer(topic: string): LostAnswer {
  const real = Broker.prototype.produce;
  let lost = 0;
  const spy = vi.spyOn(Broker.prototype, 'produce').mockImplementation(async function (this: unknown, ...args: unknown[]) {
    const answer = await real.apply(this, args);
    const request = args[0] as { topicData: { topic: string }[] };
    if (lost === 0 && request.topicData.some((t) => t.topic === topic)) {
      lost += 1;
      // After the broker wrote the batch: kafkajs rolls its sequence numbers back on this.
      throw new kafkajs.KafkaJSNonRetriableError('the answer to this produce request was lost (injected)');
    }
    return answer;
  });
  return { lost: () => lost, restore: () => spy.mockRestore() };
}

/** The first transaction with records for `topic` commits, then its outcome is reported unknown. */
export function loseOneCommitAnswer(topic: string): LostAnswer {
  const commit = PartitionProducer.prototype.commit;
  let lost = 0;
  const spy = vi.spyOn(PartitionProducer.prototype, 'commit').mockImplementation(async function (this: PartitionProducer, content) {
    await commit.call(this, content);
    if (lost === 0 && content.records.some((r) => r.topic === topic)) {
      lost += 1;
      throw new CommitOutcomeUnknownError(this.partition, new Error('connection closed before the commit was acknowledged'));
    }
  });
  return { lost: () => lost, restore: () => spy.mockRestore() };
}

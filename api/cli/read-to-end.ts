// Reads a topic's partitions from their beginning to the ends they had when the read
// started, read committed, through a throwaway consumer group (kafkajs consumes only
// through one). `stackl audit` reads one partition of task.events this way, `stackl dlq`
// every partition of the dead-letter topic.
import type { Kafka, KafkaMessage, PartitionAssigner } from 'kafkajs';
import { StacklError } from '../../core/errors.js';

export interface ReadToEnd {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Partition → the offset to read up to (exclusive); partitions not here are not waited for. */
  ends: ReadonlyMap<number, bigint>;
  /** An assigner that hands out only the partitions to read, when not all of them. */
  partitionAssigners?: PartitionAssigner[];
  timeoutMs: number;
  timeoutCode: string;
  onMessage(partition: number, message: KafkaMessage): Promise<void> | void;
}

export async function readToEnd(read: ReadToEnd): Promise<void> {
  const { kafka, topic, ends, timeoutMs } = read;
  if (ends.size === 0) return;
  const consumer = kafka.consumer({ groupId: read.groupId, maxWaitTimeInMs: 100, readUncommitted: false, ...(read.partitionAssigners === undefined ? {} : { partitionAssigners: read.partitionAssigners }) });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StacklError(read.timeoutCode, `did not read ${topic} to its end in ${timeoutMs} ms`, { retriable: true })), timeoutMs);
      const reached = new Set<number>();
      // Batches holding only transaction markers never reach eachBatch; their end event still tells how far the read got.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const end = ends.get(payload.partition);
        if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) reached.add(payload.partition);
        if (reached.size === ends.size) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition) ?? 0n;
            for (const message of batch.messages) if (BigInt(message.offset) < end) await read.onMessage(batch.partition, message);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}

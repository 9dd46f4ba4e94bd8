// Helpers for integration tests on the real broker: a client, topics of the test's
// own, and a bounded consume that fails loudly instead of hanging.
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { loadConfig } from '../../core/config.js';
import { waitForLeaders } from '../../topics/admin.js';
import { createKafka } from '../../topics/kafka.js';
import { token } from './names.js';

export function testKafka(clientId = `test-${token()}`): Kafka {
  return createKafka(loadConfig(), clientId);
}

export async function createTopic(kafka: Kafka, topic: string, partitions = 1, configs: Record<string, string> = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false,
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    });
    await waitForLeaders(admin, [topic]);
  } finally {
    await admin.disconnect();
  }
}

export interface Consumed {
  partition: number;
  message: KafkaMessage;
}

/**
 * Subscribes a fresh group to `topic` from the beginning and collects messages
 * until `count` arrived or `timeoutMs` passed (then it rejects, saying how many came).
 */
export async function consumeCount(
  kafka: Kafka,
  topic: string,
  count: number,
  options: { timeoutMs?: number; readUncommitted?: boolean; groupId?: string } = {},
): Promise<Consumed[]> {
  const consumer: Consumer = kafka.consumer({ groupId: options.groupId ?? `test-group-${token()}`, readUncommitted: options.readUncommitted ?? false });
  const received: Consumed[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${received.length} of ${count} messages from ${topic} within ${options.timeoutMs ?? 20_000} ms`)), options.timeoutMs ?? 20_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push({ partition, message });
          if (received.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      }).catch(reject);
    });
    return received;
  } finally {
    await consumer.disconnect();
  }
}

/** Everything a fresh read-committed group sees on `topic` within `ms`. */
export async function readFor(kafka: Kafka, topic: string, ms: number): Promise<Consumed[]> {
  const seen: Consumed[] = [];
  const consumer = kafka.consumer({ groupId: `test-read-${token()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push({ partition, message }) });
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

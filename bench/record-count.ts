// Counts what STACKL actually wrote to each topic during a run, after the timed part:
// the lifecycle says how many events a task has, but the changelog writes depend on
// how many of a task's inputs the processor folded into one transaction, so the
// per-task record count is observed, not assumed. Read committed, like every STACKL reader.
import type { Kafka } from 'kafkajs';
import { topicOffsets } from '../topics/topic-offsets.js';

export interface TopicTally {
  records: number;
  /** Key + value bytes (what a producer hands Kafka per record, before framing). */
  bytes: number;
}

export async function tallyTopics(kafka: Kafka, topics: string[], groupId: string, timeoutMs = 120_000): Promise<Record<string, TopicTally>> {
  const admin = kafka.admin();
  await admin.connect();
  // The end of each partition; transaction markers count in it, so "done" is "fetched up
  // to the end", told by kafkajs' batch events (which fire for marker-only fetches too).
  const pending = new Map<string, number>();
  try {
    for (const topic of topics) {
      for (const o of await topicOffsets(admin, topic)) if (Number(o.high) > Number(o.low)) pending.set(`${topic}:${o.partition}`, Number(o.high));
    }
  } finally {
    await admin.disconnect();
  }
  const tally: Record<string, TopicTally> = Object.fromEntries(topics.map((t) => [t, { records: 0, bytes: 0 }]));
  if (pending.size === 0) return tally;

  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const id = `${payload.topic}:${payload.partition}`;
    if (Number(payload.lastOffset) + 1 >= (pending.get(id) ?? 0)) pending.delete(id);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const t = tally[batch.topic] as TopicTally;
        for (const m of batch.messages) {
          t.records += 1;
          t.bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
        }
      },
    });
    for (const until = Date.now() + timeoutMs; pending.size > 0; ) {
      if (Date.now() > until) throw new Error(`counting records timed out; unread: ${[...pending.keys()].join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await consumer.disconnect();
  }
  return tally;
}

// kafkajs 2.2.4 can resolve a send without having written all of its records. One send
// goes to every leader its partitions have; when a request fails (a leader killed
// mid-request), the retry refreshes metadata and sends only to brokers that have not
// answered yet (producer/sendMessages.js keeps one response per broker). A partition
// whose leadership moved to a broker that already answered for other partitions is
// skipped, and the send succeeds without its records. The 3-node leader-kill test lost
// one or two worker results per run this way (the task then timed out and rolled back
// work that had succeeded).
//
// Such a partition is missing from the send's answer, so senders check the answer and
// send what it lacks again, one partition per send: a send that names one partition has
// one leader at a time, so its retry always carries its records.
import type { Message, RecordMetadata } from 'kafkajs';

/** The messages grouped so each group names exactly one partition, in their order; a message without a partition stands alone. */
export function onePartitionPerSend<M extends Pick<Message, 'partition'>>(messages: readonly M[]): M[][] {
  const byPartition = new Map<number, M[]>();
  const groups: M[][] = [];
  for (const message of messages) {
    if (message.partition === undefined) {
      groups.push([message]);
      continue;
    }
    let group = byPartition.get(message.partition);
    if (group === undefined) {
      group = [];
      byPartition.set(message.partition, group);
      groups.push(group);
    }
    group.push(message);
  }
  return groups;
}

/** The messages (all naming a partition) of partitions the answer of a send to `topic` does not mention. */
export function unanswered<M extends Pick<Message, 'partition'>>(topic: string, messages: readonly M[], answer: readonly RecordMetadata[]): M[] {
  const answered = new Set(answer.filter((m) => m.topicName === topic).map((m) => m.partition));
  return messages.filter((m) => m.partition !== undefined && !answered.has(m.partition));
}

// What the deployment sustains, measured rather than assumed: a burst of probe tasks
// straight onto task.requests (past the API, so nothing is shed), and the rate at which
// they complete once the pipeline is full (between the 10th and the 90th percentile of
// completions, leaving out the start and the tail).
import type { Kafka } from 'kafkajs';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import type { SubmitRequest } from '../../../processors/broker/task-broker.js';
import { percentile } from '../../../bench/stats.js';
import type { EventLog } from '../../support/event-log.js';

export interface Sustained {
  tasks: number;
  /** Completions per second while the pipeline was full. */
  ratePerSecond: number;
  /** From the first submit to the last completion. */
  tookMs: number;
}

export async function measureSustained(kafka: Kafka, requestsTopic: string, partitions: number, events: EventLog, request: SubmitRequest, tasks: number, timeoutMs: number): Promise<Sustained> {
  const client = new KafkaBrokerClient(kafka, requestsTopic, partitions);
  const began = Date.now();
  const ids: string[] = [];
  try {
    for (let sent = 0; sent < tasks; sent += 500) {
      const receipts = await client.submitMany(Array.from({ length: Math.min(500, tasks - sent) }, () => request));
      ids.push(...receipts.map((r) => r.taskId));
    }
  } finally {
    await client.close();
  }
  const completedAt = (id: string): number | undefined => events.byTask.get(id)?.find((e) => e.type === 'TaskCompleted')?.time;
  await events.waitForAll(() => ids.every((id) => completedAt(id) !== undefined), timeoutMs, () => `${ids.filter((id) => completedAt(id) !== undefined).length} of ${tasks} burst tasks completed`);
  const times = ids.map((id) => completedAt(id) as number).sort((a, b) => a - b);
  const [from, to] = [percentile(times, 10), percentile(times, 90)];
  const inWindow = times.filter((t) => t >= from && t <= to).length;
  return { tasks, ratePerSecond: Math.round((inWindow / Math.max(1, to - from)) * 1000 * 10) / 10, tookMs: (times.at(-1) ?? began) - began };
}

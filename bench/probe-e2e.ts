// End to end through the broker and a channel (BENCH_CHANNEL=kafka|redis): submit N
// probe tasks that succeed at once, and measure until a read-committed consumer of task.events has
// seen every TaskCompleted. Reports tasks/s and submit → completed latency.
// (Issue 6 extends this to "completed and visible in PostgreSQL" and to BullMQ.)
import { loadConfig } from '../core/config.js';
import { KafkaBrokerClient } from '../processors/broker/kafka-broker-client.js';
import { startLifecycleApp } from '../processors/broker/kafka/lifecycle-app.js';
import { decode, taskEventSchema } from '../schemas/index.js';
import { createKafka } from '../topics/kafka.js';
import { topicNames } from '../topics/names.js';
import { startRelay } from '../topics/channel/start-relay.js';
import { startWorker } from '../workers/start-worker.js';
import { progress, rssMiB, summarize, waitUntil } from './stats.js';

async function probeBurst(): Promise<Record<string, unknown>> {
  const tasks = Number(process.env.BENCH_TASKS ?? 20_000);
  const concurrency = process.env.BENCH_WORKER_CONCURRENCY ?? '32';
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: `bench.e2e.${Date.now().toString(36)}.` });
  const topics = topicNames(config.topicPrefix);
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'bench' });
  const channel = process.env.BENCH_CHANNEL ?? 'kafka';
  const broker = await startLifecycleApp(config, { clientId: 'bench-broker' });
  const relay = channel === 'redis' ? await startRelay(config) : undefined;
  const worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: concurrency, STACKL_CHANNEL: channel });
  const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);

  const submittedAt = new Map<string, number>();
  const latencies: number[] = [];
  const consumer = kafka.consumer({ groupId: `${config.topicPrefix}bench-observer`, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.events, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) {
        const event = await decode(message.value ?? Buffer.alloc(0), taskEventSchema);
        if (event.type === 'TaskCompleted') latencies.push(now - (submittedAt.get(event.taskId) ?? now));
      }
    },
  });

  const began = Date.now();
  for (let i = 0; i < tasks; i += 500) {
    const batch = Array.from({ length: Math.min(500, tasks - i) }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' } }));
    const sentAt = Date.now();
    for (const receipt of await client.submitMany(batch)) submittedAt.set(receipt.taskId, sentAt);
  }
  progress(`submitted ${tasks} probe tasks in ${Date.now() - began} ms`);
  await waitUntil(() => latencies.length >= tasks, 600_000, 'every task to complete');
  const elapsedMs = Date.now() - began;
  const rss = rssMiB();

  await consumer.disconnect();
  await client.close();
  await worker.stop();
  await relay?.stop();
  await broker.stop();
  return {
    tasks,
    channel,
    workerConcurrency: Number(concurrency),
    partitions: config.partitions,
    tasksPerSecond: Math.round((tasks / elapsedMs) * 1000),
    submitToCompletedMs: summarize(latencies),
    rssMiB: rss,
    note: 'broker, worker and observer in one process; completion = TaskCompleted seen by a read-committed consumer',
  };
}

export const probeBenchmarks = { 'probe-e2e': probeBurst };

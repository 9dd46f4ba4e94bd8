// One broker (the lifecycle app) and one worker on topics of the test's own, with a
// client that submits and a reader of task.events: the setup most worker tests share.
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type StacklConfig } from '../../core/config.js';
import { KafkaBrokerClient } from '../../processors/broker/kafka-broker-client.js';
import { startLifecycleApp, type RunningLifecycleApp } from '../../processors/broker/kafka/lifecycle-app.js';
import { topicNames } from '../../topics/names.js';
import { startWorker } from '../../workers/start-worker.js';
import type { Worker } from '../../workers/worker.js';
import { EventLog } from './event-log.js';
import { testKafka } from './kafka.js';
import { uniquePrefix } from './names.js';

export interface BrokerAndWorker {
  config: StacklConfig;
  client: KafkaBrokerClient;
  log: EventLog;
  /** The running worker (set once beforeAll ran). */
  worker: () => Worker;
}

/** Starts both in beforeAll and stops them in afterAll of the calling test file. */
export function useBrokerAndWorker(name: string, partitions: number): BrokerAndWorker {
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix(name), STACKL_PARTITIONS: String(partitions) });
  const topics = topicNames(config.topicPrefix);
  const kafka = testKafka();
  const client = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
  const log = new EventLog(kafka, topics.events);
  let broker: RunningLifecycleApp | undefined;
  let worker: Worker | undefined;
  beforeAll(async () => {
    broker = await startLifecycleApp(config, { tickIntervalMs: 20 });
    worker = await startWorker(config, { STACKL_WORKER_CONCURRENCY: '4' });
    await log.start();
  });
  afterAll(async () => {
    await Promise.all([worker?.stop(), log.stop(), client.close()]);
    await broker?.stop();
  });
  return {
    config,
    client,
    log,
    worker: () => {
      if (worker === undefined) throw new Error('the worker has not started');
      return worker;
    },
  };
}

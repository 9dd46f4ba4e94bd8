// The `notifier` role: delivers the outcomes of tasks with webhook origins.
import type { StacklConfig } from '../../core/config.js';
import { notifierSettingsFrom } from '../../core/webhook-config.js';
import type { OnConsumerStopped } from '../../topics/consumer-watch.js';
import { createKafka } from '../../topics/kafka.js';
import { consumerGroup, topicNames } from '../../topics/names.js';
import { KafkaBrokerClient } from '../broker/kafka-broker-client.js';
import { Notifier, NOTIFIER_APP } from './notifier.js';

export { Notifier, NOTIFIER_APP, type NotifierStats, type UndeliveredReports } from './notifier.js';
export { deliveryProblem, signDelivery, WEBHOOK_HEADERS } from './signature.js';

export async function startNotifier(config: StacklConfig, env: Record<string, string | undefined> = process.env, onFatal?: OnConsumerStopped): Promise<Notifier> {
  const kafka = createKafka(config, 'stackl-notifier');
  const topics = topicNames(config.topicPrefix);
  const reports = new KafkaBrokerClient(kafka, topics.requests, config.partitions);
  const notifier = new Notifier({
    kafka,
    reports,
    onStop: () => reports.close(),
    topics,
    groupId: consumerGroup(config.topicPrefix, NOTIFIER_APP),
    settings: notifierSettingsFrom(env),
    ...(onFatal === undefined ? {} : { onFatal }),
  });
  await notifier.start();
  return notifier;
}

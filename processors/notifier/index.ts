// The `notifier` role: delivers the outcomes of tasks with webhook origins.
import type { StacklConfig } from '../../core/config.js';
import { notifierSettingsFrom } from '../../core/webhook-config.js';
import type { OnConsumerStopped } from '../../topics/consumer-watch.js';
import { createKafka } from '../../topics/kafka.js';
import { consumerGroup, topicNames } from '../../topics/names.js';
import { KafkaBrokerClient } from '../broker/kafka-broker-client.js';
import { Notifier, NOTIFIER_APP } from './notifier.js';
import { OutboxNotifier } from './outbox-notifier.js';
import { InboxClient } from '../broker/custom/inbox-client.js';
import { useConfiguredWireFormat } from '../../topics/schema-registration.js';

export { Notifier, NOTIFIER_APP, type NotifierStats, type UndeliveredReports } from './notifier.js';
export { OutboxNotifier } from './outbox-notifier.js';
export { deliveryProblem, signDelivery, WEBHOOK_HEADERS } from './signature.js';

/** The notifier of the deployment's broker: Kafka's task.notifications, or the custom broker's outbox. */
export async function startNotifier(config: StacklConfig, env: Record<string, string | undefined> = process.env, onFatal?: OnConsumerStopped): Promise<Notifier | OutboxNotifier> {
  await useConfiguredWireFormat(config);
  if (config.broker === 'custom') {
    const reports = new InboxClient({ databaseUrl: config.databaseUrl, schema: config.databaseSchema, partitions: config.partitions });
    const notifier = new OutboxNotifier({ databaseUrl: config.databaseUrl, schema: config.databaseSchema, settings: notifierSettingsFrom(env), reports, onStop: () => reports.close() });
    await notifier.start();
    return notifier;
  }
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

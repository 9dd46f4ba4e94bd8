// A notifier in the test's process, on the topics of a useBrokerAndWorker setup, with
// short timeouts and pauses so give-ups happen in seconds; reports go through the
// setup's own client.
import type { NotifierSettings } from '../../../core/webhook-config.js';
import { Notifier } from '../../../processors/notifier/index.js';
import { topicNames } from '../../../topics/names.js';
import type { BrokerAndWorker } from '../../support/broker-and-worker.js';
import { testKafka } from '../../support/kafka.js';

export async function startTestNotifier(h: BrokerAndWorker, secret: string, settings: Partial<NotifierSettings> = {}): Promise<Notifier> {
  const notifier = new Notifier({
    kafka: testKafka(),
    reports: h.client,
    topics: topicNames(h.config.topicPrefix),
    groupId: `${h.config.topicPrefix}notifier`,
    settings: { secret, timeoutMs: 1_000, maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 400, concurrency: 4, hosts: ['127.0.0.1'], ...settings },
  });
  await notifier.start();
  return notifier;
}

// The one place a kafkajs client is built, so every role shares retry, timeout and
// logging choices. kafkajs' own logger is routed into ours at warn and above.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { createLogger } from '../core/log.js';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
}

// We use kafkajs' v2 default partitioner on purpose (murmur2, the Java client's), so
// its one-time warning about the v1 partitioner says nothing to us.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

export function createKafka(options: KafkaClientOptions): Kafka {
  const log = createLogger({ component: 'kafkajs', clientId: options.clientId });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 100, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log;
      // Our transactional producers abort and redo from committed offsets when a send
      // fails, so kafkajs' warning about bounded retries on idempotent producers is noise.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      // Connection-level errors are retriable protocol answers (coordinator loading,
      // concurrent transactions) that kafkajs retries itself: detail, not alarm.
      // A transactional producer's send meets CONCURRENT_TRANSACTIONS after every commit
      // while the markers are written; kafkajs retries it and logs each retry as an error.
      const routine = entry.namespace === 'Connection' || message.includes('another concurrent operation on the same transaction');
      const write = routine ? log.debug : entry.level <= logLevel.ERROR ? log.error : log.warn;
      write(message, { namespace: entry.namespace, ...fields });
    },
  });
}

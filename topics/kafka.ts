// The one place a kafkajs client is built, so every role shares retry, timeout,
// security and logging choices. Roles pass their configuration (`createKafka(config,
// clientId)`); kafkajs' own logger is routed into ours at warn and above.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { StacklConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { checkKafkaAccess } from './kafka-access.js';
import { isSecured, kafkajsConfig, type KafkaClientOptions } from './kafka-options.js';
import { passEmptyRecordBatches } from './kafkajs-empty-batches.js';

export type { KafkaClientOptions } from './kafka-options.js';
export { KafkaAccessError, checkKafkaAccess } from './kafka-access.js';

/** The part of the configuration that says how to reach Kafka. */
export type KafkaConnection = Pick<StacklConfig, 'kafkaBrokers' | 'kafkaSecurity'>;

// We use kafkajs' v2 default partitioner on purpose (murmur2, the Java client's), so
// its one-time warning about the v1 partitioner says nothing to us.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

// Before any client fetches: compacted topics hold empty record batches kafkajs cannot pass.
passEmptyRecordBatches();

/** A client for a role: the brokers and security of the configuration. */
export function createKafka(connection: KafkaConnection, clientId: string): Kafka;
/** A client from explicit options (no `security`: plaintext). */
export function createKafka(options: KafkaClientOptions): Kafka;
export function createKafka(source: KafkaConnection | KafkaClientOptions, clientId?: string): Kafka {
  const options: KafkaClientOptions =
    'kafkaBrokers' in source ? { brokers: source.kafkaBrokers, security: source.kafkaSecurity, clientId: clientId ?? 'stackl' } : source;
  const logging = options.quiet === true ? { logLevel: logLevel.NOTHING } : { logLevel: logLevel.WARN, logCreator: routeLogs(options.clientId) };
  const kafka = new Kafka({ ...kafkajsConfig(options), ...logging });
  return isSecured(options.security) ? checkBeforeFirstConnect(kafka, options) : kafka;
}

/**
 * Every admin, producer and consumer of a secured client checks credentials and
 * certificates (kafka-access.ts) before its first connect; one success serves the
 * whole client. A plaintext client has nothing to check and is left as it was.
 */
function checkBeforeFirstConnect(kafka: Kafka, options: KafkaClientOptions): Kafka {
  let verified: Promise<unknown> | undefined;
  const check = async (): Promise<void> => {
    const outcome = await (verified ??= checkKafkaAccess(options).catch((error: unknown) => {
      verified = undefined;
      throw error;
    }));
    // Nobody answered: let kafkajs' connect retry as usual, and check again next time.
    if (outcome === 'unreachable') verified = undefined;
  };
  const guard = <T extends { connect(): Promise<void> }>(client: T): T => {
    const connect = client.connect.bind(client);
    client.connect = async () => {
      await check();
      await connect();
    };
    return client;
  };
  const [admin, producer, consumer] = [kafka.admin.bind(kafka), kafka.producer.bind(kafka), kafka.consumer.bind(kafka)];
  kafka.admin = (...args: Parameters<Kafka['admin']>) => guard(admin(...args));
  kafka.producer = (...args: Parameters<Kafka['producer']>) => guard(producer(...args));
  kafka.consumer = (...args: Parameters<Kafka['consumer']>) => guard(consumer(...args));
  return kafka;
}

function routeLogs(clientId: string): () => (entry: LogEntry) => void {
  const log = createLogger({ component: 'kafkajs', clientId });
  return () => (entry: LogEntry) => {
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
  };
}

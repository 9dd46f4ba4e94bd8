// Which broker and channel an in-process benchmark runs (BENCH_BROKER=kafka|custom,
// BENCH_CHANNEL=kafka|redis|rabbitmq), and the roles that choice needs besides the
// projector: the broker, a relay when the Kafka broker serves a channel other than Kafka,
// and one worker. Every run gets its own topic prefix and schema; the caller starts the
// projector (startProjector picks the Kafka or the table projection from config.broker).
//
// `kafka` with no BENCH_CHANNEL is exactly the set-up the ledger's earlier rows measured
// (channel kafka, no relay), so those rows stay comparable. `custom` uses no Kafka, so it
// serves rabbitmq (its default) or redis, never the kafka channel.
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { CHANNEL_NAMES, loadConfig, type ChannelName, type StacklConfig } from '../core/config.js';
import { migrate } from '../deploy/migrations/runner.js';
import { startRelay, type Relay } from '../channels/start-relay.js';
import { InboxClient } from '../processors/broker/custom/inbox-client.js';
import { startCustomBroker } from '../processors/broker/custom/start-custom-broker.js';
import { KafkaBrokerClient } from '../processors/broker/kafka-broker-client.js';
import { startLifecycleApp } from '../processors/broker/kafka/lifecycle-app.js';
import type { Receipt, SubmitRequest } from '../processors/broker/task-broker.js';
import { topicNames } from '../topics/names.js';
import { startWorker } from '../workers/start-worker.js';
import { cleanUp } from './clean-up.js';
import { deleteWorkQueues } from './rabbit-queues.js';

export const BENCH_BROKERS = ['kafka', 'custom'] as const;
export type BenchBroker = (typeof BENCH_BROKERS)[number];

export interface StackChoice {
  broker: BenchBroker;
  channel: ChannelName;
}

export function stackChoiceFromEnv(env: Record<string, string | undefined> = process.env): StackChoice {
  const broker = env.BENCH_BROKER ?? 'kafka';
  if (!(BENCH_BROKERS as readonly string[]).includes(broker)) throw new Error(`BENCH_BROKER must be one of ${BENCH_BROKERS.join(', ')}, got "${broker}"`);
  return stackChoice(broker as BenchBroker, env.BENCH_CHANNEL);
}

/** The choice checked: the custom broker defaults to rabbitmq and refuses kafka; the Kafka broker defaults to kafka. */
export function stackChoice(broker: BenchBroker, channel?: string): StackChoice {
  const chosen = channel ?? (broker === 'custom' ? 'rabbitmq' : 'kafka');
  if (!(CHANNEL_NAMES as readonly string[]).includes(chosen)) throw new Error(`BENCH_CHANNEL must be one of ${CHANNEL_NAMES.join(', ')}, got "${chosen}"`);
  if (broker === 'custom' && chosen === 'kafka') throw new Error('BENCH_BROKER=custom uses no Kafka: BENCH_CHANNEL must be rabbitmq or redis');
  return { broker, channel: chosen as ChannelName };
}

/** The run's config: its own prefix (topics, groups, RabbitMQ queues) and schema, and the chosen broker and channel. */
export function benchConfig(choice: StackChoice, prefix: string, schema: string): StacklConfig {
  return loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: prefix, STACKL_DB_SCHEMA: schema, STACKL_BROKER: choice.broker, STACKL_CHANNEL: choice.channel });
}

/** What the benchmarks submit through: the Kafka broker's requests topic, or the custom broker's inbox table. */
export interface Submitter {
  submitMany(requests: SubmitRequest[]): Promise<Receipt[]>;
  close(): Promise<void>;
}

export function submitterFor(choice: StackChoice, config: StacklConfig, kafka: Kafka): Submitter {
  if (choice.broker === 'custom') return new InboxClient({ databaseUrl: config.databaseUrl, schema: config.databaseSchema, partitions: config.partitions });
  return new KafkaBrokerClient(kafka, topicNames(config.topicPrefix).requests, config.partitions);
}

export interface BrokerSide {
  stop(): Promise<void>;
}

/**
 * Broker, relay (if any) and worker, ready to take work. The Kafka broker creates its
 * topics; the custom broker's tables are migrated here first (the projector would do it
 * only later, and the broker reads them at once).
 */
export async function startBrokerSide(choice: StackChoice, config: StacklConfig, concurrency: number, onFatal?: (error: unknown) => void): Promise<BrokerSide> {
  // The channel is given explicitly, so the roles never read it from this process's STACKL_CHANNEL.
  const env = { STACKL_CHANNEL: choice.channel };
  let stopBroker: () => Promise<void>;
  let relay: Relay | undefined;
  if (choice.broker === 'custom') {
    await migrate(config.databaseUrl, config.databaseSchema);
    const broker = await startCustomBroker(config, {}, env);
    stopBroker = () => broker.stop();
  } else {
    const broker = await startLifecycleApp(config, { clientId: 'bench-broker', ...(onFatal === undefined ? {} : { onFatal }) });
    stopBroker = () => broker.stop();
    relay = choice.channel === 'kafka' ? undefined : await startRelay(config, undefined, env);
  }
  const worker = await startWorker(config, { ...env, STACKL_WORKER_CONCURRENCY: String(concurrency) });
  return {
    async stop() {
      await worker.stop();
      await relay?.stop();
      await stopBroker();
    },
  };
}

/**
 * Topics, groups, schema and (on rabbitmq) the work queues of the run: none is of use
 * afterwards. On redis nothing is removed, as before: a drained run leaves empty lists,
 * which Redis does not keep, and leases that expire.
 */
export async function cleanUpRun(choice: StackChoice, kafka: Kafka, config: StacklConfig, dropSchema: boolean): Promise<void> {
  await cleanUp(kafka, config, dropSchema);
  if (choice.channel === 'rabbitmq') await deleteWorkQueues(config.rabbitmqUrl, config.topicPrefix);
}

/** Tasks of the run's projection by status: printed when a run gives up, so what never ended is on record. */
export async function statusCounts(config: StacklConfig): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: config.databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ status: string; n: number }>(`select status, count(*)::int as n from ${pg.escapeIdentifier(config.databaseSchema)}.tasks group by status order by status`);
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } catch {
    return {};
  } finally {
    await client.end().catch(() => {});
  }
}

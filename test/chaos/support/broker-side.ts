// What a chaos run reads and writes beside the roles, for the broker it runs: the log the
// invariants read (task.events on Kafka, read committed; broker_events with the custom
// broker), the direct route of the load and of hostile input (a producer on
// task.requests; rows of the custom broker's inbox), the poison and where it must end up
// (task.dlq; broker_dead_letters), the backlog, whether the projection caught up, and the
// replay invariant 2 compares with. The test's own readers and checkers go to Kafka and
// PostgreSQL directly; what stands for a client (the load, hostile input) goes through
// the proxies the roles use, so the network faults reach it as they reach them.
import type { Admin, Kafka } from 'kafkajs';
import pg from 'pg';
import { CustomProjectionProgress } from '../../../processors/broker/custom/custom-progress.js';
import { InboxClient } from '../../../processors/broker/custom/inbox-client.js';
import { brokerTables } from '../../../processors/broker/custom/tables.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import { storedOffsets } from '../../../processors/projection/offsets.js';
import type { TaskEventMessage } from '../../../schemas/index.js';
import { kafkaBacklogReader } from '../../../topics/backlog.js';
import { createKafka } from '../../../topics/kafka.js';
import { topicNames, type TopicNames } from '../../../topics/names.js';
import { topicOffsets } from '../../../topics/topic-offsets.js';
import { EventLog } from '../../support/event-log.js';
import { TableEventLog } from '../../support/table-event-log.js';
import { hostileInboxRound, hostileKafkaRound, prepareHostile, type HostileSubmission, type HostileTargets } from './hostile.js';
import type { DirectRoute } from './load.js';
import { deadLettered, deadLetteredFromInbox, poisonInbox, poisonKafka, type PoisonRecord } from './poison.js';
import { replayBrokerEvents, type ReplayReport } from './table-replay.js';
import type { World } from './world.js';

export interface BrokerSide {
  /** The log's name, in invariant names and messages. */
  readonly logName: string;
  /** Where poison must end up, in words. */
  readonly deadLetters: string;
  /** Per task, its events in log order, kept up to date while the run lasts. */
  readonly histories: ReadonlyMap<string, readonly TaskEventMessage[]>;
  readonly direct: DirectRoute;
  /** Injections of the Kafka run this broker's run leaves out, and why (the report says so). */
  readonly leftOut: string[];
  /** A round of hostile submissions straight to the broker. */
  hostileRound(): Promise<HostileSubmission[]>;
  /** Poison on the broker's inputs. */
  poison(): Promise<PoisonRecord[]>;
  /** Which poison records (poisonKey) reached the dead letters with their origin. */
  deadLettered(poison: readonly PoisonRecord[]): Promise<Set<string>>;
  /** Requests and orders waiting; undefined when it cannot be read now. */
  backlog(): Promise<{ requests: number; orders: number } | undefined>;
  /** The load is over: no more backlog readings. */
  endBacklog(): Promise<void>;
  /** True once the live projection holds every event of the log, within `timeoutMs`. */
  projectionCaughtUp(timeoutMs: number): Promise<boolean>;
  /** The projection rebuilt from the log and compared with the live one; undefined with the reason when there is no report. */
  replay(): Promise<{ report: ReplayReport | undefined; failure: string }>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function brokerSide(world: World): Promise<BrokerSide> {
  return world.custom ? customSide(world) : kafkaSide(world);
}

async function kafkaSide(world: World): Promise<BrokerSide> {
  const kafka = createKafka({ brokers: world.config.kafkaBrokers, clientId: 'chaos' });
  const loadKafka = createKafka({ brokers: world.proxiedKafkaBrokers, clientId: 'chaos-load' });
  const topics = topicNames(world.config.topicPrefix);
  const client = new KafkaBrokerClient(loadKafka, topics.requests, world.config.partitions);
  const log = new EventLog(kafka, topics.events);
  await log.start();
  const targets: HostileTargets = await prepareHostile(kafka, world.config);
  const admin = kafka.admin();
  await admin.connect();
  const readBacklog = kafkaBacklogReader(admin, topics, world.config.topicPrefix, world.channel);
  return {
    logName: 'task.events',
    deadLetters: 'the dead-letter topic',
    histories: log.byTask,
    direct: { route: 'kafka', commands: client },
    leftOut: [],
    hostileRound: () => hostileKafkaRound(loadKafka, world.config, topics, targets),
    poison: () => poisonKafka(kafka, topics, world.config.partitions, world.channel),
    deadLettered: (poison) => deadLettered(kafka, topics.dlq, poison),
    backlog: async () => {
      const reading = await readBacklog().catch(() => undefined);
      return reading === undefined ? undefined : { requests: reading.requests, orders: reading.orders };
    },
    endBacklog: () => admin.disconnect().catch(() => {}),
    projectionCaughtUp: (timeoutMs) => kafkaProjectionCaughtUp(kafka, world, topics, timeoutMs),
    replay: async () => {
      const run = world.cli('replay');
      const report = parseJson(run.stdout) as ReplayReport | undefined;
      return { report, failure: `replay exited ${run.status} without a report: ${run.stderr.slice(-2000)}` };
    },
    close: async () => {
      await Promise.all([log.stop(), client.close()]);
    },
  };
}

async function customSide(world: World): Promise<BrokerSide> {
  const { config } = world;
  const topics = topicNames(config.topicPrefix);
  // The test's own reader and checkers: straight to PostgreSQL.
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 4 });
  // Restarts of PostgreSQL drop idle connections: that must not end the test process.
  pool.on('error', () => {});
  // The load and hostile input stand for clients: through the roles' proxy.
  const clientPool = new pg.Pool({ connectionString: world.proxiedDatabaseUrl, max: 4, application_name: 'chaos-load' });
  clientPool.on('error', () => {});
  const inbox = new InboxClient({ pool: clientPool, schema: config.databaseSchema, partitions: config.partitions });
  const log = new TableEventLog(pool, config.databaseSchema);
  log.start();
  const tables = brokerTables(config.databaseSchema);
  const progress = new CustomProjectionProgress(pool, config.databaseSchema, topics.events, config.partitions);
  return {
    logName: 'broker_events',
    deadLetters: 'broker_dead_letters',
    histories: log.byTask,
    direct: { route: 'inbox', commands: inbox },
    leftOut: [
      'poison on Kafka topics (task.requests, task.results, task.dispatch, task.rollbacks, agent jobs): the custom broker has no Kafka; the same poison goes to its inbox as requests and results instead',
      'hostile submissions straight to task.requests: sent straight to the inbox instead',
      'hostile reply to a reply topic too small for it: no reply topic exists without Kafka (a topic origin that gets through ends ORIGIN_TOPIC_MISSING, checked)',
      'restart-redis, restart-kafka, net-*-kafka, kill-relay: no Redis, Kafka or relay runs with the custom broker',
    ],
    hostileRound: () => hostileInboxRound(clientPool, config, topics),
    poison: () => poisonInbox(pool, config.databaseSchema, config.partitions),
    deadLettered: (poison) => deadLetteredFromInbox(pool, config.databaseSchema, poison),
    backlog: async () => {
      // What the API's admission reads with this broker (api/custom-deps.ts): requests not decided, orders not sent.
      const reading = await pool.query<{ requests: string; orders: string }>(`select (select count(*) from ${tables.inbox}) as requests, (select count(*) from ${tables.outbox}) as orders`).catch(() => undefined);
      const row = reading?.rows[0];
      return row === undefined ? undefined : { requests: Number(row.requests), orders: Number(row.orders) };
    },
    endBacklog: () => Promise.resolve(),
    projectionCaughtUp: async (timeoutMs) => {
      for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(1_000)) {
        const lag = await progress.lag().catch(() => undefined);
        if (lag !== undefined && [...lag.values()].every((behind) => behind <= 0)) return true;
      }
      return false;
    },
    replay: async () => {
      try {
        return { report: await replayBrokerEvents(config), failure: '' };
      } catch (error) {
        return { report: undefined, failure: `the replay of broker_events failed: ${(error as Error).message}` };
      }
    },
    close: async () => {
      await log.stop();
      await Promise.allSettled([inbox.close(), clientPool.end(), pool.end()]);
    },
  };
}

/** True once the projection's stored offsets reach the end of every partition of task.events. */
async function kafkaProjectionCaughtUp(kafka: Kafka, world: World, topics: TopicNames, timeoutMs: number): Promise<boolean> {
  const admin: Admin = kafka.admin();
  const pool = new pg.Pool({ connectionString: world.config.databaseUrl, max: 1 });
  pool.on('error', () => {});
  await admin.connect();
  try {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const ends = await topicOffsets(admin, topics.events);
      const stored = await storedOffsets(pool, { schema: world.config.databaseSchema, topic: topics.events });
      if (ends.every((e) => (stored.get(e.partition) ?? 0) >= Number(e.high))) return true;
      await sleep(1_000);
    }
    return false;
  } finally {
    await admin.disconnect();
    await pool.end();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

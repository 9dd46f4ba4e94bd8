// The `custom` broker (STACKL_BROKER=custom): the lifecycle processor of the Kafka broker,
// durable in PostgreSQL instead of Kafka. Task ids fall into the same partitions; each
// partition is decided by one broker at a time, the one holding its advisory lock. Live
// brokers announce themselves in broker_members and each takes its fair share of the
// partitions (ceil(partitions / brokers)), giving back what exceeds it, so a second broker
// started beside a first soon shares the work, and one that dies frees its partitions
// with its connections. NOTIFY wakes a partition when its inbox has rows.
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '../../../core/log.js';
import type { TopicNames } from '../../../topics/names.js';
import type { TaskState } from '../../lifecycle/index.js';
import type { StreamProcessor } from '../../runtime/types.js';
import { PartitionRunner } from './partition-runner.js';
import { watchCustomBroker } from './custom-broker-metrics.js';
import { brokerTables, type BrokerTables } from './tables.js';

/** A broker that has not said it lives for this long is counted out of the share. */
const MEMBER_TIMEOUT_MS = 5_000;

export interface CustomBrokerOptions {
  databaseUrl: string;
  schema: string;
  partitions: number;
  topics: TopicNames;
  processor: StreamProcessor<TaskState>;
  idempotencyWindowMs: number;
  /** Replies to reply topics go to the outbox for the Kafka relay (the channel is Kafka); else they are dead letters. */
  repliesToKafka?: boolean;
  /** How often membership and the partitions' ownership are looked at. */
  claimIntervalMs?: number;
  maxInputsPerStep?: number;
  /** Called when a decision wrote orders, so the dispatcher sends them at once. */
  onOrders?: () => void;
  memberId?: string;
}

export interface CustomBrokerStats {
  memberId: string;
  ownedPartitions: number[];
  decided: number;
  failedSteps: number;
}

export class CustomBroker {
  readonly memberId: string;
  private readonly tables: BrokerTables;
  private readonly runners = new Map<number, PartitionRunner>();
  /** Membership and ownership queries; replaced when its connection fails. */
  private control: pg.Client;
  /** LISTENs for inbox notifications; replaced when its connection fails. */
  private listener: pg.Client;
  private reconnecting: Promise<void> | undefined;
  /**
   * Both control connections are connected. A node-postgres client whose connect failed
   * never answers a query sent to it later (it queues the query for ever), so no query
   * goes to them until a reconnect succeeded.
   */
  private controlConnected = false;
  private readonly log: Logger = createLogger({ component: 'custom-broker' });
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private running = false;
  private unwatch: (() => void) | undefined;
  /** Steps of partitions given up, so the totals do not go backwards. */
  private readonly retired = { decided: 0, failedSteps: 0 };

  constructor(private readonly options: CustomBrokerOptions) {
    this.memberId = options.memberId ?? `broker-${randomUUID().slice(0, 8)}`;
    this.tables = brokerTables(options.schema);
    this.control = this.connection('control');
    this.listener = this.connection('listener');
  }

  async start(): Promise<void> {
    this.running = true;
    await this.connectControl();
    await this.claimRound();
    this.unwatch = watchCustomBroker(this.memberId, this.options.partitions, () => this.stats());
    this.timer = setInterval(() => void this.tick(), this.options.claimIntervalMs ?? 1_000);
  }

  /** Resolves once this broker owns its share of the partitions (or all, alone). */
  async ready(timeoutMs = 30_000): Promise<void> {
    for (const until = Date.now() + timeoutMs; this.runners.size === 0; ) {
      if (Date.now() > until) throw new Error(`the custom broker owns no partition after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  stats(): CustomBrokerStats {
    let decided = this.retired.decided;
    let failedSteps = this.retired.failedSteps;
    for (const runner of this.runners.values()) {
      decided += runner.stats.decided;
      failedSteps += runner.stats.failedSteps;
    }
    return { memberId: this.memberId, ownedPartitions: [...this.runners.keys()].sort((a, b) => a - b), decided, failedSteps };
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    if (this.timer) clearInterval(this.timer);
    await this.claiming;
    await Promise.all([...this.runners.values()].map((runner) => this.give(runner)));
    if (this.controlConnected) await this.control.query(`delete from ${this.tables.members} where member_id = $1`, [this.memberId]).catch(() => {});
    await Promise.allSettled([this.control.end(), this.listener.end()]);
  }

  private tick(): void {
    if (!this.running || this.claiming !== undefined) return;
    this.claiming = this.claimRound()
      .catch(async (error: unknown) => {
        this.log.warn('claiming partitions failed; trying again', { error: (error as Error).message });
        // PostgreSQL restarted or dropped us: new connections (the partitions' own runners notice by themselves).
        if (this.running) await this.replaceControl();
      })
      .finally(() => (this.claiming = undefined));
  }

  private async connectControl(): Promise<void> {
    this.controlConnected = false;
    await this.control.connect();
    await this.listener.connect();
    this.listener.on('notification', (message) => this.runners.get(Number(message.payload))?.wake());
    await this.listener.query(`listen "${this.tables.inboxChannel}"`);
    this.controlConnected = true;
  }

  private async replaceControl(): Promise<void> {
    this.reconnecting ??= (async () => {
      await Promise.allSettled([this.control.end(), this.listener.end()]);
      this.control = this.connection('control');
      this.listener = this.connection('listener');
      try {
        await this.connectControl();
      } catch (error) {
        this.log.warn('reconnecting to PostgreSQL failed; trying again', { error: (error as Error).message });
      }
    })().finally(() => (this.reconnecting = undefined));
    await this.reconnecting;
  }

  /** Heartbeat, then take or give partitions until this broker holds its share. */
  private async claimRound(): Promise<void> {
    // A reconnect that failed left clients that would hold this round for ever (and with it
    // every later one): fail it, so the tick connects again.
    if (!this.controlConnected) throw new Error('the control connections to PostgreSQL are not connected');
    for (const runner of [...this.runners.values()]) if (runner.lost) await this.give(runner);
    await this.control.query(`insert into ${this.tables.members} (member_id, heartbeat_at) values ($1, now()) on conflict (member_id) do update set heartbeat_at = now()`, [this.memberId]);
    const { rows } = await this.control.query<{ alive: string }>(`select count(*) as alive from ${this.tables.members} where heartbeat_at > now() - $1 * interval '1 millisecond'`, [MEMBER_TIMEOUT_MS]);
    const share = Math.ceil(this.options.partitions / Math.max(1, Number(rows[0]?.alive ?? 1)));
    while (this.runners.size > share) {
      const highest = Math.max(...this.runners.keys());
      const runner = this.runners.get(highest);
      if (runner !== undefined) await this.give(runner);
    }
    if (this.runners.size >= share) return;
    for (const partition of await this.unheldPartitions()) {
      if (this.runners.size >= share || !this.running) break;
      const runner = await PartitionRunner.claim(this.options.databaseUrl, partition, this.stepOptions(), this.log);
      if (runner === undefined) continue;
      this.runners.set(partition, runner);
      this.log.info('took a partition', { partition, owned: [...this.runners.keys()] });
    }
  }

  /** Partitions whose lock nobody holds now (pg_locks shows every session's advisory locks). */
  private async unheldPartitions(): Promise<number[]> {
    const { rows } = await this.control.query<{ partition: number }>(
      `select objid::int as partition from pg_locks where locktype = 'advisory' and granted and classid = hashtext($1)::oid and objsubid = 2`,
      [this.tables.lockClass],
    );
    const held = new Set(rows.map((r) => r.partition));
    return Array.from({ length: this.options.partitions }, (_, p) => p).filter((p) => !held.has(p) && !this.runners.has(p));
  }

  private async give(runner: PartitionRunner): Promise<void> {
    this.runners.delete(runner.partition);
    this.retired.decided += runner.stats.decided;
    this.retired.failedSteps += runner.stats.failedSteps;
    await runner.release();
    if (this.running) this.log.info('gave a partition up', { partition: runner.partition, lost: runner.lost });
  }

  private stepOptions() {
    return {
      schema: this.options.schema,
      topics: this.options.topics,
      processor: this.options.processor,
      idempotencyWindowMs: this.options.idempotencyWindowMs,
      repliesToKafka: this.options.repliesToKafka ?? false,
      maxInputs: this.options.maxInputsPerStep ?? 200,
      log: this.log,
      onOrders: () => this.options.onOrders?.(),
      memberId: this.memberId,
    };
  }

  private connection(purpose: string): pg.Client {
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: `stackl-custom-broker ${this.memberId} ${purpose}` });
    client.on('error', (error) => this.log.warn(`the ${purpose} connection failed`, { error: error.message }));
    return client;
  }
}

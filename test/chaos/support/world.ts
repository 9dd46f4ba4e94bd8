// The chaos run's world: a Kafka broker, a PostgreSQL cluster, a redis-server and, on
// the rabbitmq channel, a RabbitMQ node of its own (so it can restart them without
// touching the machine's), the topics and migrations, and every role as a separate
// process: broker ×2, worker ×2, relay (on the channels behind one: redis, rabbitmq),
// agent, projector, api. The roles reach Kafka and PostgreSQL through TCP proxies of
// the test's own, so the network between them can fail; the test's checkers and the
// fault injector connect directly.
//
// With the custom broker (STACKL_BROKER=custom for every role) the world is PostgreSQL
// and RabbitMQ only: no Kafka (nor its proxy), no topics, no relay (the broker sends its
// outbox to RabbitMQ itself), no notifier, and no Redis (nothing on the rabbitmq channel
// reads it). Its two `stackl broker` processes share the partitions through PostgreSQL,
// and every role still reaches PostgreSQL through the proxy.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { channelNeedsRelay, loadConfig, type BrokerName, type ChannelName, type StacklConfig } from '../../../core/config.js';
import { brokerAnswers } from '../../../deploy/local/kafka-broker.js';
import { postgresAnswers } from '../../../deploy/local/postgres.js';
import { rabbitAnswers } from '../../../deploy/local/rabbitmq.js';
import { redisAnswers } from '../../../deploy/local/redis.js';
import { PrivateRabbit } from '../../support/rabbitmq-server.js';
import { PrivateRedis } from '../../support/redis-server.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { injected, notInjected, type Injection } from './injection.js';
import { freePort } from '../../support/ports.js';
import { PrivateKafka } from './private-kafka.js';
import { PrivatePostgres } from './private-postgres.js';
import { Role } from './role.js';

/** The product's channels (STACKL_CHANNEL): a chaos run may take any of them (options.ts, CHAOS_CHANNELS). */
export type Channel = ChannelName;

/** Heartbeat timeout of the load's tasks; a worker paused longer than this loses its attempt. */
export const HEARTBEAT_TIMEOUT_MS = 8_000;
/** How long the world may take to be whole again after a fault before that counts as not recovered. */
export const RECOVERY_BOUND_MS = 180_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class World {
  readonly home = mkdtempSync(join(tmpdir(), 'stackl-chaos-'));
  readonly postgres = new PrivatePostgres();
  /** Not with the custom broker: on its rabbitmq channel no role reads Redis. */
  readonly redis: PrivateRedis | undefined;
  /** Only on the rabbitmq channel: a node takes seconds to start, and the other channels never use it. */
  readonly rabbit: PrivateRabbit | undefined;
  readonly roles: Role[] = [];
  /** Only with the Kafka broker. */
  kafka: PrivateKafka | undefined;
  kafkaProxy: TcpProxy | undefined;
  postgresProxy!: TcpProxy;
  /** The direct addresses: for the test's own checkers, the one-shot CLI steps and the injector. */
  config!: StacklConfig;
  env: Record<string, string> = {};
  /** What the roles run with: Kafka and PostgreSQL through the proxies. */
  roleEnv: Record<string, string> = {};
  apiAddress = '';

  constructor(
    readonly channel: Channel,
    readonly broker: BrokerName = 'kafka',
  ) {
    this.rabbit = channel === 'rabbitmq' ? new PrivateRabbit() : undefined;
    this.redis = broker === 'kafka' ? new PrivateRedis() : undefined;
  }

  /** The custom broker's world: no Kafka, no relay, no Redis. */
  get custom(): boolean {
    return this.broker === 'custom';
  }

  get logDir(): string {
    return join(this.home, 'logs');
  }

  /** Kafka through its proxy, for producers outside the roles (the load). */
  get proxiedKafkaBrokers(): string[] {
    if (this.kafkaProxy === undefined) throw new Error('the custom broker\'s world runs no Kafka');
    return [this.kafkaProxy.address];
  }

  /** PostgreSQL through its proxy, as the roles reach it: for the load's direct route to the custom broker's inbox. */
  get proxiedDatabaseUrl(): string {
    return this.roleEnv.DATABASE_URL ?? '';
  }

  role(name: string): Role {
    const found = this.roles.find((r) => r.name === name);
    if (found === undefined) throw new Error(`no role ${name}`);
    return found;
  }

  rolesNamed(prefix: string): Role[] {
    return this.roles.filter((r) => r.name.startsWith(prefix));
  }

  async start(progress: (message: string) => void): Promise<void> {
    mkdirSync(this.logDir, { recursive: true });
    if (!this.custom) {
      const base = loadConfig({ ...process.env, STACKL_KAFKA_HEAP: '384m' });
      this.kafka = new PrivateKafka(join(this.home, 'kafka'), join(this.logDir, 'kafka'), { cacheDir: base.cacheDir, version: base.kafkaVersion, heap: base.kafkaHeap });
      const external = await freePort();
      this.kafkaProxy = new TcpProxy({ host: '127.0.0.1', port: external });
      await this.kafkaProxy.start();
      await this.kafka.prepare({ external, advertised: this.kafkaProxy.port });
      await this.kafka.start();
    }
    await this.postgres.start();
    this.postgresProxy = new TcpProxy({ host: '127.0.0.1', port: this.postgres.port });
    await this.postgresProxy.start();
    await this.redis?.start();
    await this.rabbit?.start();
    const apiPort = await freePort();
    this.env = {
      // With the custom broker no KAFKA_BROKERS at all: a role that still reached for Kafka would fail to connect, not find the machine's.
      ...(this.kafka === undefined ? {} : { KAFKA_BROKERS: this.kafka.directAddress }),
      STACKL_HOME: join(this.home, 'stack'),
      DATABASE_URL: this.postgres.url(),
      ...(this.redis === undefined ? {} : { REDIS_URL: this.redis.url }),
      ...(this.rabbit === undefined ? {} : { RABBITMQ_URL: this.rabbit.url }),
      STACKL_BROKER: this.broker,
      STACKL_CHANNEL: this.channel,
      STACKL_PARTITIONS: '3',
      STACKL_API_PORT: String(apiPort),
      // CHAOS_LOG_LEVEL=info keeps what each role did, to study a run; warn keeps the logs small.
      STACKL_LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
      STACKL_WORKER_CONCURRENCY: '16',
      STACKL_WORKER_SESSION_TIMEOUT_MS: '6000',
      // A killed broker instance's partitions move on after 10 s rather than 30 s.
      STACKL_BROKER_SESSION_TIMEOUT_MS: '10000',
      STACKL_WORKER_LEASE_MS: String(HEARTBEAT_TIMEOUT_MS + 2_000),
      STACKL_FAULT_INJECTION: '1',
      STACKL_AGENT_FAIL_TARGETS: 'flaky-1',
    };
    const proxiedDatabase = new URL(this.postgres.url());
    proxiedDatabase.port = String(this.postgresProxy.port);
    this.roleEnv = { ...this.env, ...(this.kafkaProxy === undefined ? {} : { KAFKA_BROKERS: this.kafkaProxy.address }), DATABASE_URL: proxiedDatabase.toString() };
    this.config = loadConfig({ ...process.env, ...this.env });
    this.apiAddress = `http://127.0.0.1:${apiPort}`;
    progress(
      `${this.kafka === undefined || this.kafkaProxy === undefined ? `${this.broker} broker, no Kafka` : `private Kafka on ${this.kafka.directAddress} (roles through the proxy on ${this.kafkaProxy.address})`}, ` +
        `PostgreSQL on ${this.postgres.port} (roles through ${this.postgresProxy.port})${this.redis === undefined ? '' : `, Redis on ${this.redis.port}`}` +
        `${this.rabbit === undefined ? '' : `, RabbitMQ on ${this.rabbit.port}`}; logs in ${this.logDir}`,
    );
    // The custom broker's log, inbox and outbox are tables: the migrations are all it needs.
    for (const step of this.custom ? ['migrate'] : ['topics', 'migrate']) this.cli(step);

    const role = (name: string, args: string[]): Role => new Role(name, args, this.roleEnv, this.logDir);
    // Two brokers either way: Kafka's share the partitions through their consumer group,
    // the custom ones through PostgreSQL (advisory locks, broker_members).
    this.roles.push(role('broker-1', ['broker']), role('broker-2', ['broker']));
    if (!this.custom && channelNeedsRelay(this.channel)) this.roles.push(role('relay', ['relay']));
    this.roles.push(role('worker-1', ['worker']), role('worker-2', ['worker']));
    this.roles.push(role('agent', ['agent', '--name', 'chaos', '--targets', '*']));
    this.roles.push(role('projector', ['projector']), role('api', ['api']));
    for (const r of this.roles) {
      await r.start();
      progress(`${r.name} ready (pid ${r.pid})`);
    }
  }

  /** Restarts the Kafka broker: kill -9 (or a clean stop), then starts it again with its data. */
  async restartKafka(hard: boolean, downMs = 2_000): Promise<Injection> {
    const kafka = this.kafka;
    if (kafka === undefined) return notInjected(`no Kafka runs with the ${this.broker} broker`);
    const pid = kafka.pid;
    if (!(await kafka.stop(hard))) return notInjected('no Kafka broker process was running');
    await sleep(downMs);
    await kafka.start();
    return injected(`Kafka pid ${pid} ${hard ? 'killed (-9)' : 'stopped cleanly'}, restarted as pid ${kafka.pid}`);
  }

  async restartRedis(downMs = 1_000): Promise<Injection> {
    const redis = this.redis;
    if (redis === undefined) return notInjected(`no Redis runs with the ${this.broker} broker`);
    if (!(await redisAnswers(redis.url, 2_000))) return notInjected('Redis was not answering before the restart');
    await redis.kill();
    if (await redisAnswers(redis.url, 2_000)) return notInjected('Redis still answered after the kill');
    await sleep(downMs);
    await redis.start();
    return injected(`redis-server on ${redis.port} killed (-9) and started again, empty`);
  }

  /** kill -9 of the RabbitMQ node, then the same node again on its files: its quorum queues and what it confirmed are still there. */
  async restartRabbit(downMs = 1_000): Promise<Injection> {
    const rabbit = this.rabbit;
    if (rabbit === undefined) return notInjected(`no RabbitMQ node runs on the ${this.channel} channel`);
    if (!(await rabbitAnswers(rabbit.url, 2_000))) return notInjected('RabbitMQ was not answering before the restart');
    await rabbit.kill();
    if (await rabbitAnswers(rabbit.url, 2_000)) return notInjected('RabbitMQ still answered after the kill');
    await sleep(downMs);
    await rabbit.start();
    return injected(`RabbitMQ node on ${rabbit.port} killed (-9) and started again on its files (durable queues kept)`);
  }

  /**
   * Waits until the world is whole: Kafka (when it runs) and PostgreSQL answer through the
   * roles' proxies, Redis (when it runs) and RabbitMQ (on its channel) answer, and every
   * role runs and has said it is ready. Resolves with the time it took; rejects, naming what is missing,
   * after `timeoutMs`.
   */
  async whole(timeoutMs = RECOVERY_BOUND_MS): Promise<number> {
    const began = Date.now();
    for (;;) {
      const missing = await this.missing();
      if (missing.length === 0) return Date.now() - began;
      if (Date.now() - began > timeoutMs) throw new Error(`not whole ${timeoutMs} ms after the fault: ${missing.join('; ')}`);
      await sleep(250);
    }
  }

  private async missing(): Promise<string[]> {
    const missing: string[] = [];
    if (this.kafkaProxy !== undefined && !(await brokerAnswers([this.kafkaProxy.address], 3_000))) missing.push('Kafka does not answer through the proxy');
    if (!(await postgresAnswers(this.roleEnv.DATABASE_URL ?? '', 3_000))) missing.push('PostgreSQL does not answer through the proxy');
    if (this.redis !== undefined && !(await redisAnswers(this.redis.url, 2_000))) missing.push('Redis does not answer');
    if (this.rabbit !== undefined && !(await rabbitAnswers(this.rabbit.url, 2_000))) missing.push('RabbitMQ does not answer');
    const down = this.roles.filter((r) => !r.ready).map((r) => r.name);
    if (down.length > 0) missing.push(`roles not ready: ${down.join(', ')}`);
    return missing;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.roles.map((r) => r.close()));
    await Promise.allSettled([this.kafkaProxy?.close(), this.postgresProxy?.close()]);
    await this.kafka?.stop(false).catch(() => false);
    await this.redis?.stop().catch(() => {});
    await this.rabbit?.stop().catch(() => {});
    await this.postgres.destroy();
  }

  /** Removes the run's folder (logs included); kept when the run failed, for the post-mortem. */
  discard(): void {
    rmSync(this.home, { recursive: true, force: true });
  }

  /** Runs a one-shot `stackl` command against this world (directly, not through the proxies). */
  cli(...args: string[]): { status: number; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, ['dist/api/cli/main.js', ...args], { env: { ...process.env, ...this.env }, encoding: 'utf8', timeout: 300_000 });
    const outcome = { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    if (args[0] !== 'replay' && outcome.status !== 0) throw new Error(`stackl ${args.join(' ')} failed (${outcome.status}): ${outcome.stderr}`);
    return outcome;
  }
}

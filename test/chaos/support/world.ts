// The chaos run's world: a Kafka broker, a PostgreSQL cluster and a redis-server of
// its own (so it can restart them without touching the machine's), the topics and
// migrations, and every role as a separate process: broker ×2, worker ×2, relay (on
// the redis channel), agent, projector, api.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import { runningBrokerPid } from '../../../deploy/local/kafka-broker.js';
import { isAlive } from '../../../deploy/local/processes.js';
import { stackDown, stackUp } from '../../../deploy/local/stack.js';
import { PrivateRedis } from '../../support/redis-server.js';
import { freePort } from './ports.js';
import { PrivatePostgres } from './private-postgres.js';
import { Role } from './role.js';

export type Channel = 'kafka' | 'redis';

/** Heartbeat timeout of the load's tasks; a worker paused longer than this loses its attempt. */
export const HEARTBEAT_TIMEOUT_MS = 8_000;

export class World {
  readonly home = mkdtempSync(join(tmpdir(), 'stackl-chaos-'));
  readonly postgres = new PrivatePostgres();
  readonly redis = new PrivateRedis();
  readonly roles: Role[] = [];
  config!: StacklConfig;
  env: Record<string, string> = {};
  apiAddress = '';

  constructor(readonly channel: Channel) {}

  get logDir(): string {
    return join(this.home, 'logs');
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
    const [kafkaPort, controllerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    await this.postgres.start();
    await this.redis.start();
    this.env = {
      KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      STACKL_KAFKA_CONTROLLER_PORT: String(controllerPort),
      STACKL_KAFKA_HEAP: '384m',
      STACKL_HOME: join(this.home, 'stack'),
      DATABASE_URL: this.postgres.url(),
      REDIS_URL: this.redis.url,
      STACKL_CHANNEL: this.channel,
      STACKL_PARTITIONS: '3',
      STACKL_API_PORT: String(apiPort),
      STACKL_LOG_LEVEL: 'warn',
      STACKL_WORKER_CONCURRENCY: '16',
      STACKL_WORKER_SESSION_TIMEOUT_MS: '6000',
      // A killed broker instance's partitions move on after 10 s rather than 30 s.
      STACKL_BROKER_SESSION_TIMEOUT_MS: '10000',
      STACKL_WORKER_LEASE_MS: String(HEARTBEAT_TIMEOUT_MS + 2_000),
      STACKL_AGENT_FAIL_TARGETS: 'flaky-1',
    };
    this.config = loadConfig({ ...process.env, ...this.env });
    this.apiAddress = `http://127.0.0.1:${apiPort}`;
    progress(`private Kafka on ${this.env.KAFKA_BROKERS}, PostgreSQL on ${this.postgres.port}, Redis on ${this.redis.port}; logs in ${this.logDir}`);
    await stackUp(this.config);
    for (const step of ['topics', 'migrate']) this.cli(step);

    const role = (name: string, args: string[]): Role => new Role(name, args, this.env, this.logDir);
    this.roles.push(role('broker-1', ['broker']), role('broker-2', ['broker']));
    if (this.channel === 'redis') this.roles.push(role('relay', ['relay']));
    this.roles.push(role('worker-1', ['worker']), role('worker-2', ['worker']));
    this.roles.push(role('agent', ['agent', '--name', 'chaos', '--targets', '*']));
    this.roles.push(role('projector', ['projector']), role('api', ['api']));
    for (const r of this.roles) {
      await r.start();
      progress(`${r.name} ready (pid ${r.pid})`);
    }
  }

  /** Restarts the Kafka broker: kill -9 (or a clean stop), then `up` brings it back with its data. */
  async restartKafka(hard: boolean, downMs = 2_000): Promise<void> {
    if (hard) {
      const pid = runningBrokerPid(join(this.env.STACKL_HOME ?? '', 'pids'));
      if (pid !== undefined) {
        process.kill(pid, 'SIGKILL');
        for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } else {
      await stackDown(this.config);
    }
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await stackUp(this.config);
  }

  async restartRedis(downMs = 1_000): Promise<void> {
    await this.redis.kill();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.redis.start();
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.roles.map((r) => r.close()));
    await stackDown(this.config).catch(() => []);
    await this.redis.stop().catch(() => {});
    await this.postgres.destroy();
  }

  /** Removes the run's folder (logs included); kept when the run failed, for the post-mortem. */
  discard(): void {
    rmSync(this.home, { recursive: true, force: true });
  }

  /** Runs a one-shot `stackl` command against this world; returns its exit code and output. */
  cli(...args: string[]): { status: number; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, ['dist/api/cli/main.js', ...args], { env: { ...process.env, ...this.env }, encoding: 'utf8', timeout: 300_000 });
    const outcome = { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    if (args[0] !== 'replay' && outcome.status !== 0) throw new Error(`stackl ${args.join(' ')} failed (${outcome.status}): ${outcome.stderr}`);
    return outcome;
  }
}

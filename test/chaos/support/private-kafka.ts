// The chaos run's own Kafka broker (one KRaft node on free ports), started here rather
// than by deploy/local's `up` for one reason: the roles must reach it through a TCP
// proxy. A Kafka client bootstraps, then connects to the address the broker advertises,
// so the broker has two client listeners: INTERNAL (advertised as itself; the test's own
// readers and the injector use it, and the broker talks to itself on it) and EXTERNAL
// (advertised as the proxy's address, so every connection a role makes, bootstrap or
// not, goes through the proxy). Everything else is deploy/local's own configuration.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROKER_MARKER, randomClusterId, waitForBroker } from '../../../deploy/local/kafka-broker.js';
import { loggingConfig, serverProperties } from '../../../deploy/local/kafka-config.js';
import { ensureKafkaInstalled, type KafkaInstall } from '../../../deploy/local/kafka-install.js';
import { isAlive, stopProcess } from '../../../deploy/local/processes.js';
import { freePort } from '../../support/ports.js';

export interface KafkaPorts {
  /** INTERNAL: advertised as itself. */
  direct: number;
  /** EXTERNAL: where the proxy forwards to. */
  external: number;
  /** What EXTERNAL advertises: the proxy's port. */
  advertised: number;
  controller: number;
}

export class PrivateKafka {
  private child: ChildProcess | undefined;
  private install: KafkaInstall | undefined;
  private readonly dataDir: string;
  private readonly configDir: string;
  readonly logsDir: string;
  ports!: KafkaPorts;

  constructor(
    dir: string,
    logsDir: string,
    private readonly options: { cacheDir: string; version: string; heap: string },
  ) {
    this.dataDir = join(dir, 'data');
    this.configDir = join(dir, 'config');
    this.logsDir = logsDir;
    for (const d of [this.dataDir, this.configDir, this.logsDir]) mkdirSync(d, { recursive: true });
  }

  get directAddress(): string {
    return `127.0.0.1:${this.ports.direct}`;
  }

  get pid(): number | undefined {
    const pid = this.child?.pid;
    return pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null && isAlive(pid) ? pid : undefined;
  }

  /** Writes the configuration (once): EXTERNAL listens on `external` and advertises `advertised`, the proxy's port. */
  async prepare(proxied: { external: number; advertised: number }): Promise<void> {
    this.ports = { direct: await freePort(), controller: await freePort(), ...proxied };
    this.install = await ensureKafkaInstalled(this.options.cacheDir, this.options.version, join(this.logsDir, 'kafka-download.log'));
    const { direct, external, advertised, controller } = this.ports;
    const settings = parseProperties(serverProperties({ host: '127.0.0.1', port: direct, controllerPort: controller, dataDir: this.dataDir, configDir: this.configDir, logsDir: this.logsDir }));
    settings.set('listeners', `INTERNAL://127.0.0.1:${direct},EXTERNAL://127.0.0.1:${external},CONTROLLER://127.0.0.1:${controller}`);
    settings.set('advertised.listeners', `INTERNAL://127.0.0.1:${direct},EXTERNAL://127.0.0.1:${advertised}`);
    settings.set('inter.broker.listener.name', 'INTERNAL');
    settings.set('listener.security.protocol.map', 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT');
    writeFileSync(this.propertiesFile, `${[...settings].map(([k, v]) => `${k}=${v}`).join('\n')}\n`);
    const logging = loggingConfig(this.install.major, join(this.logsDir, 'kafka-server.log'));
    writeFileSync(join(this.configDir, logging.file), logging.text);
    this.format();
  }

  /** Starts the JVM and waits until it answers on its INTERNAL listener. */
  async start(): Promise<void> {
    const install = this.install;
    if (install === undefined) throw new Error('PrivateKafka.prepare() first');
    const logging = loggingConfig(install.major, join(this.logsDir, 'kafka-server.log'));
    const out = openSync(join(this.logsDir, 'kafka.out'), 'a');
    const child = spawn(
      java(),
      [`-Xms${this.options.heap}`, `-Xmx${this.options.heap}`, '-XX:+UseSerialGC', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true', `${logging.jvmFlag}${join(this.configDir, logging.file)}`, '-cp', `${install.libDir}/*`, BROKER_MARKER, this.propertiesFile],
      { stdio: ['ignore', out, out] },
    );
    closeSync(out);
    this.child = child;
    await waitForBroker([this.directAddress], child.pid, this.logsDir, 120_000);
  }

  /** kill -9 (hard) or a clean stop; false when no broker was running to stop. */
  async stop(hard: boolean): Promise<boolean> {
    const pid = this.pid;
    if (pid === undefined) return false;
    if (hard) {
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    } else {
      await stopProcess(pid, 60_000);
    }
    return true;
  }

  private get propertiesFile(): string {
    return join(this.configDir, 'server.properties');
  }

  /** Formats the storage once; a restart finds its data. */
  private format(): void {
    if (existsSync(join(this.dataDir, 'meta.properties')) || this.install === undefined) return;
    const logging = loggingConfig(this.install.major, join(this.logsDir, 'kafka-server.log'));
    const clusterId = randomClusterId();
    const result = spawnSync(java(), ['-Xmx256m', `${logging.jvmFlag}${join(this.configDir, logging.file)}`, '-cp', `${this.install.libDir}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', this.propertiesFile, '--ignore-formatted'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`formatting the chaos Kafka's storage failed (${result.status}): ${result.stderr || result.stdout}`);
  }
}

function java(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function parseProperties(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) settings.set(line.slice(0, at), line.slice(at + 1));
  }
  return settings;
}

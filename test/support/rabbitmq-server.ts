// A private RabbitMQ node on free ports, for tests that kill or restart RabbitMQ without
// disturbing the machine's. Unlike Redis it keeps its queues on disk (its own directory),
// so a node started again after a kill finds its durable queues: what RabbitMQ promises.
// Tests that only need a RabbitMQ use the machine's (rabbitUrl()).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { freePort } from './ports.js';

/** The RabbitMQ tests use when they need no private one: RABBITMQ_URL, else the machine's on 127.0.0.1. */
export function rabbitUrl(): string {
  return process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
}

/** Where the Debian package puts the server; on PATH elsewhere. */
const SERVER = process.env.STACKL_RABBITMQ_SERVER ?? '/usr/lib/rabbitmq/bin/rabbitmq-server';

export class PrivateRabbit {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'stackl-rabbitmq-'));
  private readonly node = `stackl${process.pid}x${Math.floor(Math.random() * 1e6)}@localhost`;
  port = 0;
  private distPort = 0;

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) [this.port, this.distPort] = [await freePort(), await freePort()];
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    const env = {
      ...process.env,
      HOME: this.dir,
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_BASE: this.dir,
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq'),
    };
    // A process group of its own, so a kill reaches the Erlang VM behind the start script.
    this.child = spawn(SERVER, [], { env, cwd: this.dir, stdio: 'ignore', detached: true });
    for (const until = Date.now() + 60_000; ; ) {
      try {
        const connection = await amqp.connect(this.url);
        await connection.close();
        return;
      } catch (error) {
        if (this.child.exitCode !== null) throw new Error(`rabbitmq-server ${this.node} exited with ${this.child.exitCode} before answering (logs in ${join(this.dir, 'log')})`, { cause: error });
        if (Date.now() > until) throw new Error(`rabbitmq-server ${this.node} on ${this.port} did not answer within 60 s: ${(error as Error).message}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** SIGKILL of the whole node, as a crash: what it confirmed is on disk, connections drop. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.pid === undefined) return;
    const exited = once(child, 'exit');
    process.kill(-child.pid, 'SIGKILL');
    await exited;
    await untilClosed(this.port);
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits until nothing listens on `port` any more (the VM may outlive its start script by a moment). */
async function untilClosed(port: number): Promise<void> {
  for (const until = Date.now() + 10_000; Date.now() < until; ) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (!open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

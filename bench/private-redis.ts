// A redis-server of the benchmark's own on a free loopback port, so the BullMQ peer
// never shares the dev stack's Redis (which keeps nothing on disk) with other work.
// It is durable the way a production BullMQ is usually run: AOF, fsync every second,
// which is the nearest Redis comes to STACKL's acks=all Kafka log.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export class BenchRedis {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<BenchRedis> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'stackl-bench-redis-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    const redis = new BenchRedis(child, dir, port);
    try {
      await redis.waitForPing();
    } catch (error) {
      await redis.stop();
      throw error;
    }
    return redis;
  }

  /** What the server actually runs with, for the JSON: proves AOF everysec was in force. */
  async persistence(): Promise<Record<string, string>> {
    const client = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true });
    try {
      await client.connect();
      const [, appendonly] = (await client.config('GET', 'appendonly')) as string[];
      const [, appendfsync] = (await client.config('GET', 'appendfsync')) as string[];
      const info = await client.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
      return { redisVersion: version, appendonly: appendonly ?? '?', appendfsync: appendfsync ?? '?' };
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitForPing(): Promise<void> {
    const client = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      for (const until = Date.now() + 10_000; ; ) {
        if (this.child.exitCode !== null) throw new Error(`redis-server exited with ${this.child.exitCode} (is it installed?)`);
        try {
          await client.connect();
          await client.ping();
          return;
        } catch (error) {
          if (Date.now() > until) throw new Error(`redis-server on ${this.port} did not answer: ${(error as Error).message}`, { cause: error });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      client.disconnect();
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

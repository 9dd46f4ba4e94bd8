// Redis for the local stack: use the one answering at REDIS_URL; when none answers on
// this machine, start redis-server on that port with its files under STACKL_HOME.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ServiceUnavailableError } from '../../core/errors.js';
import { livePid, pidFile } from './processes.js';
import { isLoopback, waitUntil } from './wait.js';

/** True when Redis takes a connection and answers PING within `timeoutMs`. */
export async function redisAnswers(redisUrl: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(redisUrl, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export function runningRedisPid(pidsDir: string): number | undefined {
  return livePid(pidsDir, 'redis', 'redis-server');
}

/** Returns true when this call started redis-server (so `down` may stop it again). */
export async function ensureRedis(
  redisUrl: string,
  dirs: { pids: string; logs: string; redisData: string },
  onProgress: (m: string) => void,
): Promise<boolean> {
  if (await redisAnswers(redisUrl)) return false;
  const url = new URL(redisUrl);
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (!isLoopback(url.hostname) || which.status !== 0) {
    throw new ServiceUnavailableError(
      'redis',
      `Redis does not answer at ${url.host}` +
        (isLoopback(url.hostname) ? ' and redis-server is not installed (apt-get install redis-server), ' : ', ') +
        'so the stack cannot start. Start it, or set REDIS_URL to one that runs.',
    );
  }
  const port = url.port || '6379';
  onProgress(`Redis not answering; starting redis-server on 127.0.0.1:${port}`);
  const result = spawnSync(
    'redis-server',
    ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', port, '--save', '', '--appendonly', 'no', '--dir', dirs.redisData,
      '--pidfile', pidFile(dirs.pids, 'redis'), '--logfile', join(dirs.logs, 'redis.log')],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new ServiceUnavailableError('redis', `redis-server failed to start: ${result.stderr || result.stdout}`);
  await waitUntil(() => redisAnswers(redisUrl), 15_000, `redis-server did not answer on port ${port} within 15 s; see ${dirs.logs}`);
  return true;
}

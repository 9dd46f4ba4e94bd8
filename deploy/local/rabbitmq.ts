// RabbitMQ for the local stack: use the one answering at RABBITMQ_URL; when none answers on
// this machine and the server is installed, start a node of our own on that port with its
// files under STACKL_HOME. Needed only by the `rabbitmq` channel: without it installed the
// stack starts anyway, unless that channel is chosen.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { ServiceUnavailableError } from '../../core/errors.js';
import { maskUrl } from '../../core/secret.js';
import { livePid, writePid } from './processes.js';
import { isLoopback, waitUntil } from './wait.js';

/** Where Debian's package puts the server; else whatever PATH finds. */
const SERVER_PATHS = ['/usr/lib/rabbitmq/bin/rabbitmq-server', '/usr/sbin/rabbitmq-server'];

/** True when RabbitMQ takes an AMQP connection within `timeoutMs`. */
export async function rabbitAnswers(rabbitmqUrl: string, timeoutMs = 1500): Promise<boolean> {
  // Bounded as a whole: a RabbitMQ that takes the socket but never answers the handshake does not answer.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const answered = (async () => {
    try {
      const connection = await amqp.connect(rabbitmqUrl, { timeout: timeoutMs });
      await connection.close();
      return true;
    } catch {
      return false;
    }
  })();
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function runningRabbitPid(pidsDir: string): number | undefined {
  return livePid(pidsDir, 'rabbitmq', 'rabbit');
}

export function rabbitServer(): string | undefined {
  const known = SERVER_PATHS.find((path) => existsSync(path));
  if (known !== undefined) return known;
  return spawnSync('sh', ['-c', 'command -v rabbitmq-server'], { encoding: 'utf8' }).stdout.trim() || undefined;
}

/**
 * Returns true when this call started a node (so `down` may stop it again). `required`: the
 * deployment's channel is rabbitmq, so a RabbitMQ that cannot be had is an error.
 */
export async function ensureRabbit(rabbitmqUrl: string, dirs: { pids: string; logs: string; root: string }, required: boolean, onProgress: (m: string) => void): Promise<boolean> {
  if (await rabbitAnswers(rabbitmqUrl)) return false;
  const url = new URL(rabbitmqUrl);
  const server = rabbitServer();
  if (!isLoopback(url.hostname) || server === undefined) {
    if (!required) return false;
    throw new ServiceUnavailableError(
      'rabbitmq',
      `RabbitMQ does not answer at ${maskUrl(rabbitmqUrl)}` +
        (isLoopback(url.hostname) ? ' and rabbitmq-server is not installed (apt-get install rabbitmq-server), ' : ', ') +
        'and STACKL_CHANNEL=rabbitmq needs it. Start it, or set RABBITMQ_URL to one that runs.',
    );
  }
  const port = url.port || '5672';
  const base = join(dirs.root, 'rabbitmq');
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'enabled_plugins'), '[].\n');
  onProgress(`RabbitMQ not answering; starting a node of our own on 127.0.0.1:${port}`);
  const log = openSync(join(dirs.logs, 'rabbitmq.log'), 'a');
  const child = spawn(server, [], {
    detached: true,
    stdio: ['ignore', log, log],
    cwd: base,
    env: {
      ...process.env,
      HOME: base,
      RABBITMQ_NODENAME: `stackl-${port}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: port,
      RABBITMQ_DIST_PORT: String(Number(port) + 20_000),
      RABBITMQ_BASE: base,
      RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
      RABBITMQ_LOG_BASE: dirs.logs,
      RABBITMQ_ENABLED_PLUGINS_FILE: join(base, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(base, 'rabbitmq'),
    },
  });
  child.unref();
  if (child.pid === undefined) throw new ServiceUnavailableError('rabbitmq', `${server} did not start`);
  writePid(dirs.pids, 'rabbitmq', child.pid);
  await waitUntil(() => rabbitAnswers(rabbitmqUrl), 60_000, `rabbitmq-server did not answer on port ${port} within 60 s; see ${join(dirs.logs, 'rabbitmq.log')}`);
  return true;
}

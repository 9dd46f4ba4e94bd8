// Start-up fails fast and clearly, and never hangs (issue 16): the real CLI as a child
// process, each case asserting the exit code, the one line that says why, and the time it
// took to exit. Also: a changelog record the broker cannot decode does not stop it.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { ensureTopics } from '../../topics/admin.js';
import { catalogueFor } from '../../topics/catalogue.js';
import { DLQ_HEADERS } from '../../topics/dead-letter.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames } from '../../topics/names.js';
import { consumeCount, testKafka } from '../support/kafka.js';
import { uniquePrefix } from '../support/names.js';
import { freePort } from '../support/ports.js';
import { dropSchema, uniqueSchema } from '../support/postgres.js';
import { RoleProcess } from '../support/role-process.js';

interface Exit {
  code: number | null;
  /** stderr, line by line, without blank lines. */
  lines: string[];
  ms: number;
}

/** Runs `stackl <args>` with `env` on top of ours; kills it (and fails) if it has not exited by `timeoutMs`. */
function stackl(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Exit> {
  const began = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/cli/main.ts', ...args], { env: { ...process.env, STACKL_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stackl ${args.join(' ')} still ran after ${timeoutMs} ms:\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: stderr.split('\n').filter((l) => l.trim() !== ''), ms: Date.now() - began });
    });
  });
}

const schemas: string[] = [];
const running: RoleProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.kill()));
  for (const schema of schemas) await dropSchema(schema);
});

function isolated(label: string): Record<string, string> {
  const schema = uniqueSchema(label);
  schemas.push(schema, `${schema}_env`);
  return { STACKL_TOPIC_PREFIX: uniquePrefix(label), STACKL_DB_SCHEMA: schema, STACKL_PARTITIONS: '2' };
}

describe('start-up', () => {
  it('refuses an invalid setting before it starts anything: one line, exit 1, within seconds', async () => {
    for (const [env, message] of [
      [{ STACKL_CHANNEL: 'bogus' }, 'stackl: STACKL_CHANNEL must be one of kafka, redis, rabbitmq, got "bogus" [CONFIG_INVALID]'],
      [{ STACKL_LOG_LEVEL: 'loud' }, 'stackl: STACKL_LOG_LEVEL must be debug, info, warn or error, got "loud" [CONFIG_INVALID]'],
      [{ STACKL_MIGRATE: 'sometimes' }, 'stackl: STACKL_MIGRATE must be "auto" or "off", got "sometimes" [CONFIG_INVALID]'],
      // The API starts last in `stackl all`; its settings are refused before anything else starts.
      [{ STACKL_API_KEYS: 'read:short' }, 'stackl: STACKL_API_KEYS entry 1 has a key of 4 characters; keys must have at least 32 (e.g. openssl rand -hex 32) [CONFIG_INVALID]'],
      [
        { STACKL_API_HOST: '0.0.0.0' },
        'stackl: STACKL_API_HOST=0.0.0.0 is reachable from other machines and STACKL_API_KEYS is not set: set STACKL_API_KEYS, or STACKL_API_INSECURE=1 to serve every route without keys [CONFIG_INVALID]',
      ],
    ] as const) {
      const exit = await stackl(['all'], { ...isolated('startup_config'), ...env });
      expect({ env, code: exit.code, lines: exit.lines }).toEqual({ env, code: 1, lines: [message] });
      expect(exit.ms).toBeLessThan(10_000);
    }
  });

  it('stops `stackl all` when a role fails to start after others did, with that role\'s one line', async () => {
    const exit = await stackl(['all'], { ...isolated('startup_role'), STACKL_API_PORT: String(await freePort()), STACKL_AGENT_NAME: 'Not A Name' }, 90_000);
    expect(exit.code).toBe(1);
    expect(exit.lines.at(-1)).toBe('stackl: an agent name is lower-case letters, digits, . _ -; got "Not A Name" [CONFIG_INVALID]');
    expect(exit.lines.filter((l) => l.includes('Not A Name'))).toHaveLength(1);
  });

  it('refuses an unknown flag of a role (exit 2, one line) instead of running the role', async () => {
    const exit = await stackl(['broker', '--nodes', '3'], isolated('startup_flag'));
    expect({ code: exit.code, lines: exit.lines }).toEqual({ code: 2, lines: [expect.stringMatching(/^stackl broker: Unknown option '--nodes'/)] });
    expect(exit.ms).toBeLessThan(10_000);
  });

  it('with STACKL_MIGRATE=off refuses to start on a schema that is behind, naming the missing migration', async () => {
    const exit = await stackl(['projector'], { ...isolated('startup_migrate'), STACKL_MIGRATE: 'off' });
    expect(exit.code).toBe(1);
    expect(exit.lines).toEqual([expect.stringMatching(/^stackl: schema t_startup_migrate_\w+ lacks migration 0001_projection and \d+ more; STACKL_MIGRATE=off applies none at start: run `stackl migrate` first \[MIGRATION_INVALID\]$/)]);
    expect(exit.ms).toBeLessThan(15_000);
  });
});

describe('a changelog record the broker cannot decode', () => {
  it('is dead-lettered with its offset and the broker starts and serves', async () => {
    const env = isolated('startup_restore');
    const config = loadConfig({ ...process.env, ...env });
    const kafka = testKafka();
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, catalogueFor(config));
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const changelog = changelogTopic(config.topicPrefix, LIFECYCLE_APP, LIFECYCLE_TABLE);
    // What an origin naming the changelog once left there: a TaskEvent, not a task's state.
    await producer.send({ topic: changelog, messages: [{ key: '01971f00-0000-7000-8000-000000000001', value: Buffer.from([0xc3, 0x01, 0x42, 0x42]), partition: 0 }] });
    await producer.disconnect();
    const broker = new RoleProcess('broker', env, /broker ready/);
    running.push(broker);
    await broker.start(60_000);
    const [dead] = await consumeCount(kafka, topicNames(config.topicPrefix).dlq, 1);
    const header = (name: string) => dead?.message.headers?.[name]?.toString();
    expect([header(DLQ_HEADERS.code), header(DLQ_HEADERS.topic), header(DLQ_HEADERS.offset)]).toEqual(['CHANGELOG_UNDECODABLE', changelog, '0']);
  });
});

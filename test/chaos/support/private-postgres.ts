// A PostgreSQL cluster of the chaos run's own (initdb in a temporary folder, a free
// port), so the run can restart it without disturbing the machine's server. As root
// the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../support/ports.js';

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions[0];
  if (found === undefined) throw new Error(`the chaos suite needs PostgreSQL's server binaries (initdb, pg_ctl) under ${root}; install the postgresql package`);
  return join(root, found, 'bin');
}

export class PrivatePostgres {
  port = 0;
  private readonly dir = mkdtempSync(join(tmpdir(), 'stackl-chaos-pg-'));
  private readonly data = join(this.dir, 'data');
  private readonly bin = postgresBin();
  private readonly asRoot = process.getuid?.() === 0;

  url(database = 'stackl'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) {
      this.port = await freePort();
      chmodSync(this.dir, 0o777);
      this.run('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    }
    this.run('pg_ctl', ['-D', this.data, '-w', '-t', '60', '-l', join(this.dir, 'server.log'), '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=200`, 'start']);
    await this.ensureDatabase();
  }

  /** Immediate shutdown (no checkpoint, like a crash); the next start runs crash recovery. */
  async restart(downMs = 1_000): Promise<void> {
    this.run('pg_ctl', ['-D', this.data, '-m', 'immediate', 'stop']);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  async destroy(): Promise<void> {
    if (this.port !== 0) spawnSync(...this.command('pg_ctl', ['-D', this.data, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async ensureDatabase(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      const exists = await client.query(`select 1 from pg_database where datname = 'stackl'`);
      if (exists.rowCount === 0) await client.query('create database stackl');
    } finally {
      await client.end();
    }
  }

  private command(tool: string, args: string[]): [string, string[]] {
    const path = join(this.bin, tool);
    return this.asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  }

  private run(tool: string, args: string[]): void {
    const [command, argv] = this.command(tool, args);
    const result = spawnSync(command, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} failed (${result.status}): ${(result.stderr || result.stdout || String(result.error)).trim()}`);
  }
}

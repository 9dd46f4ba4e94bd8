// The custom broker's kind registry (broker_kinds) with its PostgreSQL connection dropped
// by a TCP proxy: a registration cut in the middle of its transaction (held at its row
// lock) fails, leaves the row as it was and the process alive, and the next one works; a
// reader that cannot reach the table answers with what it holds instead of throwing, and
// reads what was registered once the connection is back.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { migrate } from '../../../deploy/migrations/runner.js';
import { defineKind } from '../../../index.js';
import { registerKindsInTable } from '../../../processors/registry/kind-registrar.js';
import { TableKinds } from '../../../processors/registry/table-kinds.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { TcpProxy } from '../../support/tcp-proxy.js';

const schema = uniqueSchema('kinds_faults');
const url = new URL(testDatabaseUrl());
const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
const direct = new pg.Pool({ connectionString: testDatabaseUrl(), max: 3 });
let through: pg.Pool;

const v1 = defineKind({ name: 'gauge', actions: ['read'], payload: z.strictObject({ id: z.string() }), rollback: 'none' });
const v2 = defineKind({ ...v1, version: 2, payload: z.strictObject({ id: z.string(), unit: z.string().optional() }) });
const register = (database: pg.Pool, kind = v2) => registerKindsInTable({ database, schema, kinds: [kind], pool: 'gauges', workerId: 'test' });
const versionHeld = async () => (await direct.query<{ version: number }>(`select (record->>'version')::int as version from "${schema}".broker_kinds where name = 'gauge'`)).rows[0]?.version;

beforeAll(async () => {
  await migrate(testDatabaseUrl(), schema);
  await proxy.start();
  const proxied = new URL(url.toString());
  proxied.port = String(proxy.port);
  through = new pg.Pool({ connectionString: proxied.toString(), max: 2 });
  through.on('error', () => {});
});

afterAll(async () => {
  await through?.end();
  await direct.end();
  await proxy.close();
  await dropSchema(schema);
});

describe('the kind registry table under dropped connections', () => {
  it('a registration cut in the middle of its transaction changes nothing, the process lives on, and the next one works', async () => {
    await register(direct, v1);
    const unhandled: unknown[] = [];
    const onUncaught = (error: unknown) => unhandled.push(error);
    process.on('uncaughtException', onUncaught);
    const locker = await direct.connect();
    try {
      // Holds the kind's row, so the registration waits inside its transaction at `for update`.
      await locker.query('begin');
      await locker.query(`select 1 from "${schema}".broker_kinds where name = 'gauge' for update`);
      const cut = register(through);
      await new Promise((resolve) => setTimeout(resolve, 500));
      proxy.dropAll();
      await expect(cut).rejects.toThrow(/Connection terminated|ECONNRESET|not queryable/);
      await locker.query('commit');
      expect(await versionHeld()).toBe(1);
      await register(through);
      expect(await versionHeld()).toBe(2);
      expect(unhandled).toEqual([]);
    } finally {
      locker.release();
      process.off('uncaughtException', onUncaught);
    }
  });

  it('a reader that cannot reach the table answers with what it holds, and catches up once it can', async () => {
    const kinds = new TableKinds(through, schema);
    await kinds.start();
    try {
      expect(await kinds.knows('gauge')).toBe(true);
      proxy.refuse(1_500);
      proxy.dropAll();
      await registerKindsInTable({ database: direct, schema, kinds: [defineKind({ name: 'meter', actions: ['read'], payload: z.object({}), rollback: 'none' })], pool: 'meters', workerId: 'test' });
      expect(await kinds.knows('meter')).toBe(false); // out of reach: no throw, the kinds read so far stand
      expect(kinds.kinds.has('gauge')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1_700));
      expect(await kinds.knows('meter')).toBe(true);
    } finally {
      await kinds.stop();
    }
  });
});

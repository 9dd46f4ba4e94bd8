// The one PostgreSQL transaction helper every store and the projector use, with the
// connection dropped under it by a TCP proxy: the transaction fails with the error, the
// process lives on (a lent-out client's 'error' event is heard), the broken connection
// is not lent again, and the next transaction works.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../core/pg-transaction.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { testDatabaseUrl } from '../support/postgres.js';

const url = new URL(testDatabaseUrl());
const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
let pool: pg.Pool | undefined;

afterAll(async () => {
  await pool?.end();
  await proxy.close();
});

describe('inTransaction', () => {
  it('fails, without ending the process, when the connection drops in the middle, and works again after', async () => {
    await proxy.start();
    const through = new URL(url.toString());
    through.port = String(proxy.port);
    pool = new pg.Pool({ connectionString: through.toString(), max: 2 });
    pool.on('error', () => {});
    const unhandled: unknown[] = [];
    const onUncaught = (error: unknown) => unhandled.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const dropped = inTransaction(pool, async (client) => {
        await client.query('select 1');
        // The connection dies while this client is lent out, between two queries.
        proxy.dropAll();
        await new Promise((resolve) => setTimeout(resolve, 200));
        await client.query('select 2');
      });
      await expect(dropped).rejects.toThrow(/Connection terminated|not queryable|ECONNRESET/);
      const value = await inTransaction(pool, async (client) => (await client.query<{ n: number }>('select 3 as n')).rows[0]?.n);
      expect(value).toBe(3);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

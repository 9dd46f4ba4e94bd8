// One PostgreSQL transaction on a pooled client: commit when `work` resolves, roll back
// when it throws, and always give the client back. Every store that writes uses it.
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  // The pool stops listening to a client it lends out, and a connection that dies then
  // emits 'error' on it: unheard, that ends the process. The query in flight (or the next
  // one) fails with the same error, so noting it here is enough.
  const onError = (error: Error): void => {
    failure ??= error;
  };
  client.on('error', onError);
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.removeListener('error', onError);
    // A connection that failed mid-transaction is discarded rather than reused.
    client.release(failure);
  }
}

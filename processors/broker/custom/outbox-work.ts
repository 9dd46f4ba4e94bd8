// What every relay of the custom broker does the same way, whatever its channel: run a
// loop of sends until stopped (again at once after a full batch, after an idle sleep that a
// new order cuts short otherwise, with backoff after a failure), and write results into
// the inbox with a NOTIFY per partition they land on.
import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../core/log.js';
import type { WakeUp } from '../../../core/wake-up.js';
import type { BrokerTables } from './tables.js';

/** Rows taken at most per send. */
export const SEND_BATCH = 200;

/** Repeats `step` while `running()`; `step` resolves with how many rows it handled. */
export async function repeatSends(step: () => Promise<number>, options: { running: () => boolean; wakeUp: WakeUp; idleMs: number; log: Logger; what: string }): Promise<void> {
  let backoff = 200;
  while (options.running()) {
    try {
      const done = await step();
      backoff = 200;
      if (done < SEND_BATCH) await options.wakeUp.sleep(options.idleMs);
    } catch (error) {
      if (!options.running()) return;
      options.log.warn(`${options.what} failed; trying again`, { error: (error as Error).message });
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 5_000);
    }
  }
}

/** Workers' results into the inbox, each on its task's partition, waking the brokers that own them. */
export async function insertResults(db: pg.Pool | pg.PoolClient, tables: BrokerTables, rows: { partition: number; taskId: string; body: Buffer }[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `with added as (insert into ${tables.inbox} (partition, task_id, source, body) select p, t, 'result', b from unnest($1::int[], $2::text[], $3::bytea[]) as r(p, t, b) returning partition)
     select pg_notify($4, partition::text) from (select distinct partition from added) as woken`,
    [rows.map((r) => r.partition), rows.map((r) => r.taskId), rows.map((r) => r.body), tables.inboxChannel],
  );
}

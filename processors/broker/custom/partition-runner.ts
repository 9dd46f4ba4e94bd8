// One partition owned by this custom broker: a connection of its own that holds the
// partition's advisory lock (a session lock: it goes with the connection, so a broker
// killed -9 frees its partitions at once) and runs the partition's decision steps one
// after another, woken by NOTIFY, by its next deadline, or by a slow poll.
import { WakeUp } from '../../../core/wake-up.js';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../core/log.js';
import { decidePartition, type PartitionStepOptions } from './decide-partition.js';
import { brokerTables } from './tables.js';

/** The longest a partition sleeps without a wake-up: a lost NOTIFY costs at most this. */
const IDLE_POLL_MS = 1_000;

export interface RunnerStats {
  decided: number;
  steps: number;
  failedSteps: number;
}

export class PartitionRunner {
  readonly stats: RunnerStats = { decided: 0, steps: 0, failedSteps: 0 };
  private running = true;
  private readonly wakeUp = new WakeUp();
  private loop: Promise<void> | undefined;
  /** Set when the connection failed: the lock is gone, the broker must forget this partition. */
  lost = false;

  private constructor(
    readonly partition: number,
    private readonly client: pg.Client,
    private readonly options: PartitionStepOptions & { onOrders: () => void },
    private readonly log: Logger,
  ) {}

  /** Takes the partition if nobody holds it; undefined when another broker does. */
  static async claim(databaseUrl: string, partition: number, options: PartitionStepOptions & { onOrders: () => void; memberId: string }, log: Logger): Promise<PartitionRunner | undefined> {
    // Named after its broker, so an operator (and a test) sees who holds which partition.
    const client = new pg.Client({ connectionString: databaseUrl, application_name: `stackl-custom-broker ${options.memberId} p${partition}` });
    client.on('error', (error) => log.warn('the connection of a partition failed', { partition, error: error.message }));
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtext($1), $2) as locked', [brokerTables(options.schema).lockClass, partition]);
      if (rows[0]?.locked !== true) {
        await client.end();
        return undefined;
      }
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    const runner = new PartitionRunner(partition, client, options, log);
    runner.loop = runner.run();
    return runner;
  }

  wake(): void {
    this.wakeUp.wake();
  }

  /** Finishes the step under way, gives the lock back and closes the connection. */
  async release(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await this.client.query('select pg_advisory_unlock(hashtext($1), $2)', [brokerTables(this.options.schema).lockClass, this.partition]).catch(() => {});
    await this.client.end().catch(() => {});
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        const outcome = await decidePartition(this.client, this.partition, this.options);
        backoff = 100;
        this.stats.steps += 1;
        this.stats.decided += outcome.decided;
        if (outcome.orders > 0) this.options.onOrders();
        // A full batch: more may wait, go on at once.
        if (outcome.decided >= this.options.maxInputs) continue;
        const untilDeadline = outcome.nextDeadline === undefined ? IDLE_POLL_MS : outcome.nextDeadline - Date.now();
        if (outcome.decided === 0 || untilDeadline > 0) await this.wakeUp.sleep(Math.max(0, Math.min(IDLE_POLL_MS, untilDeadline)));
      } catch (error) {
        this.stats.failedSteps += 1;
        if (!this.running) return;
        if (isConnectionGone(error)) {
          // Without its connection the lock is gone too: another broker may hold the partition now.
          this.log.warn('lost the connection of a partition; giving it up', { partition: this.partition, error: (error as Error).message });
          this.lost = true;
          this.running = false;
          await this.client.end().catch(() => {});
          return;
        }
        this.log.warn('a decision step failed; trying again', { partition: this.partition, error });
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

}

/** The connection itself failed (closed, reset, terminated by the server), not a statement. */
function isConnectionGone(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  return /Connection terminated|not queryable|Client has encountered a connection error|ECONNRESET|EPIPE/.test(message) || code === '57P01' || code === '57P02' || code === '57P03';
}

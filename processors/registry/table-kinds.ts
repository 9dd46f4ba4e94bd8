// The custom broker's kind registry: the table broker_kinds in PostgreSQL (migration 0008)
// instead of the task.kinds topic. Read whole at start and every few seconds; a reader that
// meets an unknown kind reads it again first, and since a registration commits before
// its worker starts, a task submitted after that is never refused for its kind.
import pg from 'pg';
import { createLogger } from '../../core/log.js';
import type { KindDefinition } from '../lifecycle/index.js';
import { FreshReadings } from './fresh-readings.js';
import { KindBook, type KindView } from './kind-book.js';
import type { KindRecord } from './kind-record.js';

const REFRESH_MS = 5_000;

export class TableKinds implements KindView {
  private readonly book = new KindBook();
  private readonly log = createLogger({ component: 'kind-registry' });
  private timer: NodeJS.Timeout | undefined;
  private readonly readings = new FreshReadings(() => this.read());

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {}

  get kinds(): ReadonlyMap<string, KindDefinition> {
    return this.book.kinds;
  }

  record(name: string): KindRecord | null {
    return this.book.record(name);
  }

  async start(): Promise<void> {
    await this.catchUp();
    this.timer = setInterval(() => void this.catchUp().catch((error: unknown) => this.log.warn('could not read the kind registry', { error })), REFRESH_MS).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.readings.settled();
  }

  async knows(kind: string): Promise<boolean> {
    if (this.book.kinds.has(kind)) return true;
    await this.catchUp().catch((error: unknown) => this.log.warn('could not read the kind registry', { error }));
    return this.book.kinds.has(kind);
  }

  /** Reads the table as of this call (callers share readings: fresh-readings.ts). */
  catchUp(): Promise<void> {
    return this.readings.next();
  }

  private async read(): Promise<void> {
    const { rows } = await this.pool.query<{ name: string; record: unknown }>(`select name, record from ${pg.escapeIdentifier(this.schema)}.broker_kinds order by name`);
    for (const row of rows) this.book.apply(row.name, Buffer.from(JSON.stringify(row.record)), { table: 'broker_kinds' });
  }
}

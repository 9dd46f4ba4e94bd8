// How far the custom broker and the projection have come, per partition, for the API's
// read-your-writes waits and lag (api/projection-progress.ts, which the Kafka broker
// answers from consumer groups). A request is decided once every inbox row of its
// partition up to its id has left the inbox; the log's end is the partition's next event
// offset, and no marker follows the last event.
import type pg from 'pg';
import type { ProjectionProgress } from '../../../api/projection-progress.js';
import { PROJECTOR_NAME, storedOffsets } from '../../projection/offsets.js';
import { brokerTables, type BrokerTables } from './tables.js';

/** What "nothing waits in the inbox" answers: past any position. */
const PAST_EVERYTHING = 2n ** 63n - 1n;

export class CustomProjectionProgress implements ProjectionProgress {
  readonly markerAtEnd = false;
  private readonly tables: BrokerTables;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly eventsTopic: string,
    private readonly partitions: number,
  ) {
    this.tables = brokerTables(schema);
  }

  async lifecycleNext(partition: number): Promise<bigint> {
    const { rows } = await this.pool.query<{ first: string | null }>(`select min(id) as first from ${this.tables.inbox} where partition = $1`, [partition]);
    const first = rows[0]?.first;
    return first === null || first === undefined ? PAST_EVERYTHING : BigInt(first);
  }

  async eventsEnd(): Promise<Map<number, bigint>> {
    const { rows } = await this.pool.query<{ partition: number; next_offset: string }>(`select partition, next_offset from ${this.tables.partitions}`);
    const ends = new Map(Array.from({ length: this.partitions }, (_, p): [number, bigint] => [p, 0n]));
    for (const row of rows) ends.set(row.partition, BigInt(row.next_offset));
    return ends;
  }

  async projectedNext(): Promise<Map<number, bigint>> {
    const stored = await storedOffsets(this.pool, { schema: this.schema, topic: this.eventsTopic, projector: PROJECTOR_NAME });
    return new Map([...stored].map(([partition, next]) => [partition, BigInt(next)]));
  }

  async lag(): Promise<Map<number, number>> {
    const [ends, projected] = await Promise.all([this.eventsEnd(), this.projectedNext()]);
    return new Map([...ends].map(([partition, end]) => [partition, Number(end - (projected.get(partition) ?? 0n))]));
  }
}

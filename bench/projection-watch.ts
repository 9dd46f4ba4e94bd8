// "Completed in PostgreSQL": watches the projection the way a reader of the API would
// see it. projection_offsets is written in the same transaction as the task rows, so a
// timeline of its offsets says when each row became visible: a task whose TaskCompleted
// sits at offset o of partition p was visible from the first poll where p's next
// offset passed o. That gives every task's visibility time to one poll interval
// without querying 20,000 rows every few milliseconds.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { storedOffsets, type OffsetKey } from '../processors/projection/index.js';

interface Sample {
  at: number;
  next: number[];
}

export class ProjectionWatch {
  /** Tasks with status Completed at the last count (the count runs every few polls). */
  completed = 0;
  private readonly timeline: Sample[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly key: OffsetKey,
    private readonly partitions: number,
    readonly pollMs = 20,
    private readonly countEvery = 5,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Submit → completed-visible per task, when each (visibleAt) and the last one became visible. */
  async visibility(submittedAt: Map<string, number>): Promise<{ latencies: number[]; visibleAt: Map<string, number>; lastVisibleAt: number; unresolved: number }> {
    const { rows } = await this.pool.query<{ id: string; last_partition: number; last_offset: string }>(
      `select id, last_partition, last_offset from ${pg.escapeIdentifier(this.key.schema)}.tasks where status = 'Completed'`,
    );
    const latencies: number[] = [];
    const visibleAt = new Map<string, number>();
    let lastVisibleAt = 0;
    let unresolved = 0;
    for (const row of rows) {
      const at = this.visibleAt(row.last_partition, Number(row.last_offset));
      const sent = submittedAt.get(row.id);
      if (at === undefined || sent === undefined) {
        unresolved += 1;
        continue;
      }
      latencies.push(at - sent);
      visibleAt.set(row.id, at);
      lastVisibleAt = Math.max(lastVisibleAt, at);
    }
    return { latencies, visibleAt, lastVisibleAt, unresolved };
  }

  private async run(): Promise<void> {
    for (let poll = 0; this.running; poll++) {
      const stored = await storedOffsets(this.pool, this.key);
      this.timeline.push({ at: Date.now(), next: Array.from({ length: this.partitions }, (_, p) => stored.get(p) ?? 0) });
      // Counting is only how the benchmark knows to stop; the figures come from the timeline.
      if (poll % this.countEvery === 0) this.completed = await this.countCompleted();
      await sleep(this.pollMs);
    }
  }

  private async countCompleted(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`select count(*)::int as n from ${pg.escapeIdentifier(this.key.schema)}.tasks where status = 'Completed'`);
    return rows[0]?.n ?? 0;
  }

  /** First sample whose next offset of `partition` is past `offset` (offsets only grow: binary search). */
  private visibleAt(partition: number, offset: number): number | undefined {
    let low = 0;
    let high = this.timeline.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.timeline[mid]?.next[partition] ?? 0) > offset) high = mid;
      else low = mid + 1;
    }
    return this.timeline[low]?.at;
  }
}

// Which partitions this consumer owns and may project. kafkajs forgets every fetch
// position when the group rebalances (its offset manager is rebuilt and we commit
// nothing to Kafka), so after every join all owned partitions are paused, sought to
// the offsets PostgreSQL holds, and only then resumed. A replay also tracks which
// partitions reached their stop offset.
import type { Logger } from '../../core/log.js';

export interface PartitionTrackerOptions {
  stopAt?: ReadonlyMap<number, number> | undefined;
  stored(): Promise<Map<number, number>>;
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  seek(partition: number, offset: number): void;
  logger: Logger;
}

export class PartitionTracker {
  private generation = 0;
  private current = new Set<number>();
  private readonly sought = new Set<number>();
  private readonly done = new Set<number>();
  private readonly positions = new Map<number, number>();
  private readonly joined: Promise<void>;
  private markJoined!: () => void;
  private readonly allDone: Promise<void>;
  private markAllDone!: () => void;

  constructor(private readonly options: PartitionTrackerOptions) {
    this.joined = new Promise((resolve) => (this.markJoined = resolve));
    this.allDone = new Promise((resolve) => (this.markAllDone = resolve));
    if (options.stopAt?.size === 0) this.markAllDone();
  }

  /** The GROUP_JOIN of a new generation: runs inside kafkajs before it fetches again. */
  assigned(partitions: number[]): void {
    const generation = ++this.generation;
    this.current = new Set(partitions);
    this.sought.clear();
    if (partitions.length > 0) this.options.pause(partitions);
    void this.seekStored(generation, partitions);
  }

  isActive(partition: number): boolean {
    return this.current.has(partition) && this.sought.has(partition) && !this.done.has(partition);
  }

  owned(): number[] {
    return [...this.current].sort((a, b) => a - b);
  }

  /** Resolves once the first assignment is sought (possibly to no partition at all). */
  firstAssignment(): Promise<void> {
    return this.joined;
  }

  /** Replay: resolves once every partition of stopAt reached its stop offset. */
  finished(): Promise<void> {
    return this.allDone;
  }

  /** The latest next offset seen per partition (stored at assignment, then per batch). */
  position(partition: number): number | undefined {
    return this.positions.get(partition);
  }

  /** The partition's projection now continues at `next`. */
  reached(partition: number, next: number): void {
    this.positions.set(partition, Math.max(next, this.positions.get(partition) ?? 0));
    const stop = this.options.stopAt?.get(partition);
    if (stop === undefined || next < stop || this.done.has(partition)) return;
    this.done.add(partition);
    if (this.current.has(partition)) this.options.pause([partition]);
    if ([...(this.options.stopAt?.keys() ?? [])].every((p) => this.done.has(p))) this.markAllDone();
  }

  private async seekStored(generation: number, partitions: number[]): Promise<void> {
    for (let attempt = 1; generation === this.generation; attempt++) {
      try {
        const stored = await this.options.stored();
        if (generation !== this.generation) return;
        const go: number[] = [];
        for (const partition of partitions) {
          const offset = stored.get(partition) ?? 0;
          this.reached(partition, offset);
          if (this.done.has(partition)) continue;
          this.options.seek(partition, offset);
          this.sought.add(partition);
          go.push(partition);
        }
        if (go.length > 0) this.options.resume(go);
        this.options.logger.info('partitions assigned and sought to their stored offsets', { partitions: this.owned(), offsets: Object.fromEntries(partitions.map((p) => [p, stored.get(p) ?? 0])) });
        this.markJoined();
        return;
      } catch (error) {
        // Without PostgreSQL there is no position to start from: stay paused and retry.
        this.options.logger.warn('could not read stored offsets; retrying', { attempt, error });
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * attempt)));
      }
    }
  }
}

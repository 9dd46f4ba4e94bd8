// How far each stage has read the log, per partition: the lifecycle processor in
// task.requests (its consumer group's committed offsets) and the projection in
// task.events (the next offsets the projector stores with its rows, read through the
// projector's own helpers so the API and the projector agree on every number).
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import { projectionLag } from '../processors/projection/lag.js';
import { PROJECTOR_NAME, storedOffsets, type OffsetKey } from '../processors/projection/offsets.js';
import { consumerGroup, LIFECYCLE_APP, type TopicNames } from '../topics/names.js';
import { topicOffsets } from '../topics/topic-offsets.js';

export interface ProjectionProgress {
  /**
   * Whether the log's last offset is a transaction marker no reader receives (Kafka's):
   * then the projection has everything once it reaches the end minus one.
   */
  readonly markerAtEnd: boolean;
  /** The next task.requests offset the lifecycle processor committed on `partition`; -1n before its first commit. */
  lifecycleNext(partition: number): Promise<bigint>;
  /** The last stable offset of every task.events partition: what a read-committed reader can reach. */
  eventsEnd(): Promise<Map<number, bigint>>;
  /** The next task.events offset the projection stored, per partition (absent: nothing projected yet). */
  projectedNext(): Promise<Map<number, bigint>>;
  /** Events (and transaction markers) of task.events not yet in PostgreSQL, per partition. */
  lag(): Promise<Map<number, number>>;
}

export interface KafkaProjectionProgressOptions {
  admin: Admin;
  pool: pg.Pool;
  schema: string;
  topics: TopicNames;
  topicPrefix: string;
  /** Whose rows of projection_offsets to follow; default the projector role's. */
  projector?: string;
}

export class KafkaProjectionProgress implements ProjectionProgress {
  readonly markerAtEnd = true;
  private readonly key: Required<OffsetKey>;

  constructor(private readonly options: KafkaProjectionProgressOptions) {
    this.key = { schema: options.schema, topic: options.topics.events, projector: options.projector ?? PROJECTOR_NAME };
  }

  async lifecycleNext(partition: number): Promise<bigint> {
    const { admin, topics, topicPrefix } = this.options;
    const groups = await admin.fetchOffsets({ groupId: consumerGroup(topicPrefix, LIFECYCLE_APP), topics: [topics.requests] });
    const offset = groups[0]?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
    return BigInt(offset);
  }

  async eventsEnd(): Promise<Map<number, bigint>> {
    const offsets = await topicOffsets(this.options.admin, this.key.topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.offset)]));
  }

  async projectedNext(): Promise<Map<number, bigint>> {
    const stored = await storedOffsets(this.options.pool, this.key);
    return new Map([...stored].map(([partition, next]) => [partition, BigInt(next)]));
  }

  async lag(): Promise<Map<number, number>> {
    const lag = await projectionLag(this.options.admin, this.options.pool, this.key);
    return new Map(lag.partitions.map((p) => [p.partition, p.lag]));
  }
}

/**
 * The offset the projection must reach to have seen everything below `end`. Only the
 * lifecycle processor writes task.events, always in transactions, so the record just
 * below the last stable offset is a commit marker, which a read-committed consumer never
 * receives: the projector moves past it in a later fetch, or not at all until more
 * events come. Every event is in PostgreSQL once the stored offset reaches `end - 1`.
 */
export function projectionTarget(end: bigint): bigint {
  return end > 0n ? end - 1n : 0n;
}

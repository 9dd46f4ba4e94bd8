// Projection lag for /readyz and /metrics: per partition, the end of task.events as a
// read-committed consumer sees it (the last stable offset, which counts transaction
// markers) minus the next offset PostgreSQL says it will read.
import type { Admin } from 'kafkajs';
import { topicOffsets } from '../../topics/topic-offsets.js';
import { storedOffsets, type OffsetKey, type Queryable } from './offsets.js';

export interface PartitionLag {
  partition: number;
  /** Next offset a read-committed consumer would get from task.events. */
  endOffset: number;
  /** Next offset the projection will read (projection_offsets). */
  projectedThrough: number;
  /** Events (and markers) not yet in PostgreSQL. */
  lag: number;
}

export interface ProjectionLag {
  topic: string;
  partitions: PartitionLag[];
  total: number;
}

export interface LogBounds {
  /** First offset still in the log. */
  low: number;
  /** Next offset a read-committed consumer would get (kafkajs' ListOffsets default isolation). */
  end: number;
}

export async function logBounds(admin: Admin, topic: string): Promise<Map<number, LogBounds>> {
  const offsets = await topicOffsets(admin, topic);
  return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), end: Number(o.high) }]));
}

export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  return new Map([...(await logBounds(admin, topic))].map(([p, b]) => [p, b.end]));
}

export async function projectionLag(admin: Admin, db: Queryable, key: OffsetKey): Promise<ProjectionLag> {
  const [ends, stored] = await Promise.all([endOffsets(admin, key.topic), storedOffsets(db, key)]);
  const partitions = [...ends.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, endOffset]) => {
      const through = stored.get(partition) ?? 0;
      return { partition, endOffset, projectedThrough: through, lag: Math.max(0, endOffset - through) };
    });
  return { topic: key.topic, partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0) };
}

// Invariant 2's replay for the custom broker. `stackl replay` reads task.events from
// Kafka, which a custom broker's deployment does not have; its log is broker_events. So
// the chaos suite replays that log itself, as the replay command does for Kafka: a fresh
// `<schema>_replay` schema, the product's own table projection (TableProjection, the
// projector's code) run over a snapshot of the log from its first event, then the
// product's compareProjections against the live projection, up to what both hold. The
// report has the shape of `stackl replay`'s, so one invariant reads either.
import pg from 'pg';
import type { StacklConfig } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { compareProjections, describeDifference, replaySchemaName } from '../../../processors/projection/index.js';
import { ensureOffsetRows, PROJECTOR_NAME, storedOffsets } from '../../../processors/projection/offsets.js';
import { PROJECTOR_APP } from '../../../processors/projection/projector.js';
import { TableProjection } from '../../../processors/projection/table-projection.js';
import { consumerGroup, topicNames } from '../../../topics/names.js';

/** What `stackl replay` prints, the fields invariant 2 reads. */
export interface ReplayReport {
  equal: boolean;
  events: number;
  /** Per partition, events of the log the live projection had not reached when compared. */
  liveBehind: Record<string, number>;
  differences: { text: string }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function replayBrokerEvents(config: StacklConfig, options: { timeoutMs?: number; catchUpMs?: number; limit?: number } = {}): Promise<ReplayReport> {
  const live = config.databaseSchema;
  const target = replaySchemaName(live);
  const topic = topicNames(config.topicPrefix).events;
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5 });
  // A connection PostgreSQL drops between queries must not end the test process.
  pool.on('error', () => {});
  try {
    await pool.query(`drop schema if exists ${pg.escapeIdentifier(target)} cascade`);
    await migrate(config.databaseUrl, target);
    // One statement: a consistent snapshot of the log, each partition a prefix of it.
    const copied = await pool.query(`insert into ${pg.escapeIdentifier(target)}.broker_events (partition, "offset", task_id, value) select partition, "offset", task_id, value from ${pg.escapeIdentifier(live)}.broker_events`);
    const { rows: ends } = await pool.query<{ partition: number; end: string }>(`select partition, max("offset") + 1 as "end" from ${pg.escapeIdentifier(target)}.broker_events group by partition`);
    const through = new Map(ends.map((r) => [r.partition, Number(r.end)]));

    const key = { schema: target, topic, projector: PROJECTOR_NAME };
    await ensureOffsetRows(pool, key, config.partitions);
    const projection = new TableProjection({ pool, key, partitions: config.partitions, dlqTopic: topicNames(config.topicPrefix).dlq, app: consumerGroup(config.topicPrefix, PROJECTOR_APP), logger: createLogger({ component: 'chaos-replay', schema: target }) });
    projection.start();
    try {
      for (const until = Date.now() + (options.timeoutMs ?? 300_000); (await projection.lag()).total > 0; await sleep(200)) {
        if (Date.now() > until) throw new Error(`the replay of broker_events did not reach the end of the log within ${(options.timeoutMs ?? 300_000) / 1000} s`);
      }
    } finally {
      await projection.stop();
    }

    // Compare what both hold: where the live projection is behind, only up to its position.
    const liveKey = { schema: live, topic, projector: PROJECTOR_NAME };
    let liveOffsets = await storedOffsets(pool, liveKey);
    for (const until = Date.now() + (options.catchUpMs ?? 10_000); ![...through].every(([p, end]) => (liveOffsets.get(p) ?? 0) >= end) && Date.now() < until; liveOffsets = await storedOffsets(pool, liveKey)) await sleep(100);
    const compared = new Map([...through].map(([p, end]) => [p, Math.min(end, liveOffsets.get(p) ?? 0)]));
    const liveBehind = Object.fromEntries([...through].filter(([p, end]) => (liveOffsets.get(p) ?? 0) < end).map(([p, end]) => [String(p), end - (liveOffsets.get(p) ?? 0)]));
    const differences = await compareProjections(config.databaseUrl, live, target, { through: compared, limit: options.limit ?? 1000 });
    return { equal: differences.length === 0, events: copied.rowCount ?? 0, liveBehind, differences: differences.map((d) => ({ text: describeDifference(d, live, target) })) };
  } finally {
    await pool.end();
  }
}

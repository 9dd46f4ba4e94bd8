// `stackl replay`: rebuild the projection from the log into `<schema>_replay`, then
// compare it with the live one. Progress goes to stderr; the report (JSON) to stdout.
// Exit code 0 when both agree, 1 when they differ.
import pg from 'pg';
import type { StacklConfig } from '../../core/config.js';
import { StacklError } from '../../core/errors.js';
import { migrate } from '../../deploy/migrations/runner.js';
import { topicNames } from '../../topics/names.js';
import { compareProjections, describeDifference } from './compare.js';
import { PROJECTOR_NAME, storedOffsets } from './offsets.js';
import { replayProjection, type ReplayProgress } from './replay.js';

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

export interface ReplayCommandOptions {
  /** How long to wait for the live projection to reach the replay's end offsets. */
  catchUpMs?: number;
  /** Most differences reported. */
  limit?: number;
}

/** The schema a replay of `schema` goes to: owned by the replay, dropped and rebuilt each run. */
export function replaySchemaName(schema: string): string {
  return `${schema.slice(0, 63 - '_replay'.length)}_replay`;
}

export async function replayCommand(config: StacklConfig, io: CommandIo = process, options: ReplayCommandOptions = {}): Promise<number> {
  const live = config.databaseSchema;
  const target = replaySchemaName(live);
  // The replay schema is dropped first: never let that be the live one.
  if (target === live) throw new StacklError('REPLAY_TARGET_IS_LIVE', `the replay schema of ${live} would be ${live} itself; use a shorter STACKL_DB_SCHEMA`);
  await migrate(config.databaseUrl, live);
  await dropSchema(config.databaseUrl, target);
  const result = await replayProjection({ config, schema: target, onProgress: (p) => io.stderr.write(progressLine(p, io.stderr.isTTY === true)) });
  if (io.stderr.isTTY) io.stderr.write('\n');

  // Compare what both hold: where the live projection is behind, only up to its position.
  const key = { schema: live, topic: topicNames(config.topicPrefix).events, projector: PROJECTOR_NAME };
  const liveOffsets = await waitForLive(config.databaseUrl, key, result.through, options.catchUpMs ?? 10_000);
  const through = new Map([...result.through].map(([p, end]) => [p, Math.min(end, liveOffsets.get(p) ?? 0)]));
  const liveBehind = Object.fromEntries([...result.through].filter(([p, end]) => (liveOffsets.get(p) ?? 0) < end).map(([p, end]) => [p, end - (liveOffsets.get(p) ?? 0)]));
  const limit = options.limit ?? 1000;
  const differences = await compareProjections(config.databaseUrl, live, target, { through, limit });
  for (const d of differences) io.stderr.write(`difference: ${describeDifference(d, live, target)}\n`);
  const report = {
    live,
    replay: target,
    events: result.events,
    ms: result.ms,
    eventsPerSecond: result.eventsPerSecond,
    through: Object.fromEntries(result.through),
    liveBehind,
    equal: differences.length === 0,
    differences: differences.map((d) => ({ ...d, text: describeDifference(d, live, target) })),
    truncated: differences.length >= limit,
  };
  io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return differences.length === 0 ? 0 : 1;
}

function progressLine(p: ReplayProgress, tty: boolean): string {
  const percent = p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
  const line = `replay: ${p.done.toLocaleString('en')}/${p.total.toLocaleString('en')} (${percent}%), ${p.eventsPerSecond.toLocaleString('en')} events/s, ${(p.elapsedMs / 1000).toFixed(1)} s`;
  if (!tty) return `${line}\n`;
  // On a terminal, a bar redrawn in place: twenty cells, one per 5 %.
  const filled = Math.min(20, Math.floor(percent / 5));
  return `\r[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${line}\u001b[K`;
}

async function waitForLive(databaseUrl: string, key: { schema: string; topic: string }, target: ReadonlyMap<number, number>, timeoutMs: number): Promise<Map<number, number>> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const stored = await storedOffsets(pool, key);
      if ([...target].every(([p, end]) => (stored.get(p) ?? 0) >= end) || Date.now() >= until) return stored;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await pool.end();
  }
}

async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  // A dropped connection fails the query in flight; its 'error' event, unheard, would end the process.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
  } finally {
    await client.end();
  }
}

// A chaos run's knobs, from the environment. Without CHAOS_CHANNEL the channel comes
// from the seed (seed % 3: 0 kafka, 1 redis, 2 rabbitmq), so runs with random seeds
// cover every channel over time. Without CHAOS_FAULT_EVERY_S a short run gets its faults
// closer together, so every kind of fault fits in the run at least once.
import { faultKindsFor } from './faults.js';
import type { Channel } from './world.js';

/** The channels a chaos run can take, in the order the seed picks them. */
export const CHAOS_CHANNELS: readonly Channel[] = ['kafka', 'redis', 'rabbitmq'];

export interface ChaosOptions {
  seed: number;
  channel: Channel;
  durationMs: number;
  tasksPerSecond: number;
  faultEveryMs: number;
  /** How long, after the load stops, every task gets to end. */
  drainMs: number;
  /** Fault kinds left out of the schedule (CHAOS_SKIP_FAULTS). */
  skipFaults: string[];
  /** Keep every role's log even when the run passes (CHAOS_KEEP_LOGS=1), to study a slow one. */
  keepLogs: boolean;
}

/** Faults start this long after the load, and the last one is due this long before it ends. */
export const FAULTS_FROM_MS = 15_000;
export const FAULTS_UNTIL_BEFORE_END_MS = 10_000;
const DEFAULT_FAULT_EVERY_MS = 12_000;

export function optionsFromEnv(seed: number, env: Record<string, string | undefined> = process.env): ChaosOptions {
  const number = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
    return value;
  };
  const named = env.CHAOS_CHANNEL === undefined || env.CHAOS_CHANNEL === '' ? undefined : env.CHAOS_CHANNEL;
  const channel = named === undefined ? channelForSeed(seed) : CHAOS_CHANNELS.find((c) => c === named);
  if (channel === undefined) throw new Error(`CHAOS_CHANNEL must be one of ${CHAOS_CHANNELS.join(', ')}, got "${named}"`);
  const durationMs = number('CHAOS_DURATION_S', 150) * 1000;
  const skipFaults = (env.CHAOS_SKIP_FAULTS ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
  const kinds = faultKindsFor(channel).filter((k) => !skipFaults.includes(k)).length;
  // One of each kind within the span, at most one every DEFAULT_FAULT_EVERY_MS.
  const span = durationMs - FAULTS_FROM_MS - FAULTS_UNTIL_BEFORE_END_MS;
  const fitting = kinds > 1 ? Math.floor(span / (kinds - 1)) : DEFAULT_FAULT_EVERY_MS;
  const faultEveryMs = number('CHAOS_FAULT_EVERY_S', Math.max(1, Math.min(DEFAULT_FAULT_EVERY_MS, fitting)) / 1000) * 1000;
  return { seed, channel, durationMs, tasksPerSecond: number('CHAOS_RATE', 8), faultEveryMs, drainMs: number('CHAOS_DRAIN_S', 240) * 1000, skipFaults, keepLogs: env.CHAOS_KEEP_LOGS === '1' };
}

/** The channel a seed (a non-negative integer, as seedFromEnv gives) picks when CHAOS_CHANNEL names none. */
export function channelForSeed(seed: number): Channel {
  return CHAOS_CHANNELS[seed % CHAOS_CHANNELS.length] as Channel;
}

/** The command that runs the same chaos again. */
export function replayCommand(options: ChaosOptions): string {
  const skipped = options.skipFaults.length === 0 ? '' : ` CHAOS_SKIP_FAULTS=${options.skipFaults.join(',')}`;
  return `CHAOS_SEED=${options.seed} CHAOS_CHANNEL=${options.channel} CHAOS_DURATION_S=${options.durationMs / 1000} CHAOS_RATE=${options.tasksPerSecond} CHAOS_FAULT_EVERY_S=${options.faultEveryMs / 1000} CHAOS_DRAIN_S=${options.drainMs / 1000}${skipped} npm run test:chaos`;
}

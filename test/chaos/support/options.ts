// A chaos run's knobs, from the environment. Without CHAOS_CHANNEL the channel comes
// from the seed (seed % 3: 0 kafka, 1 redis, 2 rabbitmq), so runs with random seeds
// cover every channel over time. CHAOS_BROKER (kafka, the default, or custom) is never
// taken from the seed: a seed recorded before the custom broker existed replays the same
// run. The custom broker works only with the rabbitmq channel, so it takes that one.
// Without CHAOS_FAULT_EVERY_S a short run gets its faults closer together, so every kind
// of fault fits in the run at least once.
import { BROKER_NAMES, type BrokerName } from '../../../core/config.js';
import { faultKindsFor } from './faults.js';
import type { Channel } from './world.js';

/** The channels a chaos run can take, in the order the seed picks them. */
export const CHAOS_CHANNELS: readonly Channel[] = ['kafka', 'redis', 'rabbitmq'];
/** The brokers a chaos run can run (CHAOS_BROKER). */
export const CHAOS_BROKERS: readonly BrokerName[] = BROKER_NAMES;
/** The one channel the custom broker runs with (start-custom-broker.ts refuses the others). */
export const CUSTOM_BROKER_CHANNEL: Channel = 'rabbitmq';

export interface ChaosOptions {
  seed: number;
  /** Which broker decides tasks (STACKL_BROKER of every role). */
  broker: BrokerName;
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
  const brokerNamed = env.CHAOS_BROKER === undefined || env.CHAOS_BROKER === '' ? 'kafka' : env.CHAOS_BROKER;
  const broker = CHAOS_BROKERS.find((b) => b === brokerNamed);
  if (broker === undefined) throw new Error(`CHAOS_BROKER must be one of ${CHAOS_BROKERS.join(', ')}, got "${brokerNamed}"`);
  const named = env.CHAOS_CHANNEL === undefined || env.CHAOS_CHANNEL === '' ? undefined : env.CHAOS_CHANNEL;
  const channel = named === undefined ? (broker === 'custom' ? CUSTOM_BROKER_CHANNEL : channelForSeed(seed)) : CHAOS_CHANNELS.find((c) => c === named);
  if (channel === undefined) throw new Error(`CHAOS_CHANNEL must be one of ${CHAOS_CHANNELS.join(', ')}, got "${named}"`);
  if (broker === 'custom' && channel !== CUSTOM_BROKER_CHANNEL) {
    throw new Error(`CHAOS_BROKER=custom runs on the ${CUSTOM_BROKER_CHANNEL} channel only (the custom broker sends its orders to RabbitMQ itself), got CHAOS_CHANNEL=${channel}; leave CHAOS_CHANNEL unset or set it to ${CUSTOM_BROKER_CHANNEL}`);
  }
  const durationMs = number('CHAOS_DURATION_S', 150) * 1000;
  const skipFaults = (env.CHAOS_SKIP_FAULTS ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
  const kinds = faultKindsFor(channel, broker).filter((k) => !skipFaults.includes(k)).length;
  // One of each kind within the span, at most one every DEFAULT_FAULT_EVERY_MS.
  const span = durationMs - FAULTS_FROM_MS - FAULTS_UNTIL_BEFORE_END_MS;
  const fitting = kinds > 1 ? Math.floor(span / (kinds - 1)) : DEFAULT_FAULT_EVERY_MS;
  const faultEveryMs = number('CHAOS_FAULT_EVERY_S', Math.max(1, Math.min(DEFAULT_FAULT_EVERY_MS, fitting)) / 1000) * 1000;
  return { seed, broker, channel, durationMs, tasksPerSecond: number('CHAOS_RATE', 8), faultEveryMs, drainMs: number('CHAOS_DRAIN_S', 240) * 1000, skipFaults, keepLogs: env.CHAOS_KEEP_LOGS === '1' };
}

/** The channel a seed (a non-negative integer, as seedFromEnv gives) picks when CHAOS_CHANNEL names none. */
export function channelForSeed(seed: number): Channel {
  return CHAOS_CHANNELS[seed % CHAOS_CHANNELS.length] as Channel;
}

/** The command that runs the same chaos again. */
export function replayCommand(options: ChaosOptions): string {
  const skipped = options.skipFaults.length === 0 ? '' : ` CHAOS_SKIP_FAULTS=${options.skipFaults.join(',')}`;
  // Named only when custom: a Kafka run's replay line reads as it always did.
  const broker = options.broker === 'kafka' ? '' : `CHAOS_BROKER=${options.broker} `;
  return `${broker}CHAOS_SEED=${options.seed} CHAOS_CHANNEL=${options.channel} CHAOS_DURATION_S=${options.durationMs / 1000} CHAOS_RATE=${options.tasksPerSecond} CHAOS_FAULT_EVERY_S=${options.faultEveryMs / 1000} CHAOS_DRAIN_S=${options.drainMs / 1000}${skipped} npm run test:chaos`;
}

// The chaos run's fault schedule and knobs: a short run (CI's 120 s) holds every fault
// kind of its channel at least once whatever the seed and channel, faults stay inside
// the run, each channel gets the faults it can suffer (the relay's and RabbitMQ's only
// where they run), the seed picks the channel in turn unless CHAOS_CHANNEL names one,
// and the same seed gives the same schedule. CHAOS_BROKER=custom takes the rabbitmq
// channel and only the faults of a world without Kafka, relay or Redis; the broker is
// never taken from the seed, so a seed replays as it did before CHAOS_BROKER existed.
import { describe, expect, it } from 'vitest';
import { CHANNEL_NAMES } from '../../../core/config.js';
import { FAULT_KINDS, faultKindsFor, faultSchedule } from '../../chaos/support/faults.js';
import { CHAOS_CHANNELS, channelForSeed, FAULTS_FROM_MS, FAULTS_UNTIL_BEFORE_END_MS, optionsFromEnv, replayCommand } from '../../chaos/support/options.js';
import { Random } from '../../chaos/support/random.js';

const scheduleFor = (seed: number, env: Record<string, string> = {}) => {
  const options = optionsFromEnv(seed, env);
  return { options, schedule: faultSchedule(new Random(seed), options.channel, FAULTS_FROM_MS, options.durationMs - FAULTS_UNTIL_BEFORE_END_MS, options.faultEveryMs, new Set(options.skipFaults), options.broker) };
};

/** What a custom broker's world runs: two brokers, workers, agent, projector, API, PostgreSQL, RabbitMQ. */
const CUSTOM_KINDS = [
  'kill-broker',
  'kill-worker',
  'kill-agent',
  'kill-projector',
  'kill-api',
  'pause-worker',
  'restart-postgres',
  'restart-rabbitmq',
  'slow-agent',
  'net-drop-postgres',
  'net-stall-postgres',
];

describe('chaos fault schedule', () => {
  it('covers every kind of the channel in a 120 s run, for many seeds, on every channel', () => {
    for (const channel of CHAOS_CHANNELS) {
      for (let seed = 0; seed < 200; seed++) {
        const { options, schedule } = scheduleFor(seed, { CHAOS_DURATION_S: '120', CHAOS_CHANNEL: channel });
        expect(options.channel).toBe(channel);
        const kinds = new Set(schedule.map((f) => f.kind));
        expect({ channel, seed, missing: faultKindsFor(channel).filter((k) => !kinds.has(k)), foreign: [...kinds].filter((k) => !faultKindsFor(channel).includes(k)) }).toEqual({ channel, seed, missing: [], foreign: [] });
        for (const fault of schedule) {
          expect(fault.atMs).toBeGreaterThanOrEqual(FAULTS_FROM_MS);
          expect(fault.atMs).toBeLessThanOrEqual(options.durationMs - FAULTS_UNTIL_BEFORE_END_MS + options.faultEveryMs / 4);
        }
      }
    }
  });

  it('gives each channel the faults it can suffer: the relay is killed only where it runs, RabbitMQ restarted only on its channel', () => {
    const has = (kind: string) => CHAOS_CHANNELS.filter((c) => (faultKindsFor(c) as string[]).includes(kind));
    expect(has('kill-relay')).toEqual(['redis', 'rabbitmq']);
    expect(has('restart-rabbitmq')).toEqual(['rabbitmq']);
    // The world's redis-server runs on every channel, so every channel restarts it.
    expect(has('restart-redis')).toEqual(['kafka', 'redis', 'rabbitmq']);
    // Every kind is some channel's: none is defined and never scheduled.
    expect(FAULT_KINDS.filter((k) => has(k).length === 0)).toEqual([]);
  });

  it('still covers every kind when CHAOS_FAULT_EVERY_S asks for fewer faults than there are kinds', () => {
    for (const channel of CHAOS_CHANNELS) {
      const { options, schedule } = scheduleFor(7, { CHAOS_DURATION_S: '60', CHAOS_FAULT_EVERY_S: '30', CHAOS_CHANNEL: channel });
      expect(options.faultEveryMs).toBe(30_000);
      expect(new Set(schedule.map((f) => f.kind))).toEqual(new Set(faultKindsFor(channel)));
    }
  });

  it('repeats every kind in a long run at the asked pace', () => {
    const { schedule } = scheduleFor(11, { CHAOS_DURATION_S: '1800', CHAOS_FAULT_EVERY_S: '20', CHAOS_CHANNEL: 'kafka' });
    expect(schedule.length).toBe(Math.floor((1800_000 - FAULTS_FROM_MS - FAULTS_UNTIL_BEFORE_END_MS) / 20_000) + 1);
    const counts = new Map<string, number>();
    for (const f of schedule) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
    expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(5);
    expect(counts.has('kill-relay')).toBe(false);
    expect(counts.has('restart-rabbitmq')).toBe(false);
  });

  it('gives network faults a bounded, seeded length', () => {
    const { schedule } = scheduleFor(3, { CHAOS_DURATION_S: '600' });
    for (const fault of schedule.filter((f) => f.kind.startsWith('net-'))) {
      expect(fault.durationMs).toBeGreaterThanOrEqual(1_000);
      expect(fault.durationMs).toBeLessThanOrEqual(15_000);
    }
    expect(scheduleFor(3, { CHAOS_DURATION_S: '600' }).schedule).toEqual(schedule);
  });

  it('leaves out what CHAOS_SKIP_FAULTS names, and refuses an unknown name', () => {
    const { schedule } = scheduleFor(5, { CHAOS_DURATION_S: '120', CHAOS_SKIP_FAULTS: 'restart-kafka,net-stall-kafka' });
    expect(schedule.some((f) => f.kind === 'restart-kafka' || f.kind === 'net-stall-kafka')).toBe(false);
    expect(() => scheduleFor(5, { CHAOS_SKIP_FAULTS: 'kill-everything' })).toThrow(/unknown faults kill-everything/);
  });
});

describe('chaos fault schedule with the custom broker', () => {
  it('is exactly the faults of a world without Kafka, relay, notifier or Redis', () => {
    expect(faultKindsFor('rabbitmq', 'custom')).toEqual(CUSTOM_KINDS);
    // Nothing of Kafka, the relay or Redis: none of them runs with the custom broker.
    expect(faultKindsFor('rabbitmq', 'custom').filter((k) => k.includes('kafka') || k.includes('relay') || k.includes('redis') || k.includes('notifier'))).toEqual([]);
    // The Kafka broker's kinds are what they were: the broker argument defaults to kafka.
    for (const channel of CHAOS_CHANNELS) expect(faultKindsFor(channel, 'kafka')).toEqual(faultKindsFor(channel));
  });

  it('covers every custom kind, and no other, in a 120 s run for many seeds', () => {
    for (let seed = 0; seed < 200; seed++) {
      const { options, schedule } = scheduleFor(seed, { CHAOS_DURATION_S: '120', CHAOS_BROKER: 'custom' });
      expect(options).toMatchObject({ broker: 'custom', channel: 'rabbitmq' });
      const kinds = new Set(schedule.map((f) => f.kind));
      expect({ seed, missing: CUSTOM_KINDS.filter((k) => !kinds.has(k as never)), foreign: [...kinds].filter((k) => !CUSTOM_KINDS.includes(k)) }).toEqual({ seed, missing: [], foreign: [] });
      for (const fault of schedule) {
        expect(fault.atMs).toBeGreaterThanOrEqual(FAULTS_FROM_MS);
        expect(fault.atMs).toBeLessThanOrEqual(options.durationMs - FAULTS_UNTIL_BEFORE_END_MS + options.faultEveryMs / 4);
      }
    }
  });

  it('spaces a short run by the custom kinds, and leaves a Kafka seed\'s schedule as it was', () => {
    const custom = optionsFromEnv(1, { CHAOS_DURATION_S: '120', CHAOS_BROKER: 'custom' });
    expect(custom.faultEveryMs * (CUSTOM_KINDS.length - 1)).toBeLessThanOrEqual(120_000 - FAULTS_FROM_MS - FAULTS_UNTIL_BEFORE_END_MS);
    expect(custom.faultEveryMs).toBe(optionsFromEnv(1, { CHAOS_DURATION_S: '120', CHAOS_BROKER: 'custom', CHAOS_CHANNEL: 'rabbitmq' }).faultEveryMs);
    // Seed 20260502's 120 s schedule as the suite drew it before CHAOS_BROKER existed (a3384ef's rabbitmq run): still the same.
    const { options, schedule } = scheduleFor(20260502, { CHAOS_DURATION_S: '120' });
    expect({ broker: options.broker, channel: options.channel, faultEveryMs: options.faultEveryMs }).toEqual({ broker: 'kafka', channel: 'rabbitmq', faultEveryMs: 5937 });
    expect(schedule.map((f) => [f.atMs, f.kind, f.instance])).toEqual([
      [16362, 'kill-relay', 2],
      [20951, 'net-delay-kafka', 1],
      [27501, 'net-drop-postgres', 1],
      [32891, 'kill-projector', 1],
      [38972, 'net-stall-kafka', 1],
      [45173, 'kill-api', 2],
      [51419, 'net-drop-kafka', 2],
      [57720, 'restart-kafka', 2],
      [63435, 'net-stall-postgres', 2],
      [69095, 'kill-broker', 2],
      [75351, 'restart-redis', 1],
      [80421, 'pause-worker', 2],
      [86531, 'kill-worker', 1],
      [93661, 'restart-postgres', 1],
      [99356, 'slow-agent', 1],
      [105033, 'kill-agent', 2],
      [110395, 'restart-rabbitmq', 1],
    ]);
  });
});

describe('chaos options', () => {
  it('take the channel from the seed in turn (seed % 3: kafka, redis, rabbitmq) unless CHAOS_CHANNEL names one', () => {
    // Every channel the product offers is one a chaos run can take.
    expect([...CHAOS_CHANNELS].sort()).toEqual([...CHANNEL_NAMES].sort());
    expect([9, 10, 11, 12, 13, 14].map((seed) => optionsFromEnv(seed, {}).channel)).toEqual(['kafka', 'redis', 'rabbitmq', 'kafka', 'redis', 'rabbitmq']);
    expect(optionsFromEnv(10, { CHAOS_CHANNEL: '' }).channel).toBe('redis');
    expect(optionsFromEnv(9, { CHAOS_CHANNEL: 'redis' }).channel).toBe('redis');
    expect(optionsFromEnv(9, { CHAOS_CHANNEL: 'rabbitmq' }).channel).toBe('rabbitmq');
    expect(optionsFromEnv(11, { CHAOS_CHANNEL: 'kafka' }).channel).toBe('kafka');
    expect(() => optionsFromEnv(10, { CHAOS_CHANNEL: 'nats' })).toThrow(/CHAOS_CHANNEL must be one of kafka, redis, rabbitmq, got "nats"/);
  });

  it('replay the channel a seed picked, even once the seed alone would pick another', () => {
    const options = optionsFromEnv(11, { CHAOS_DURATION_S: '120' });
    const replay = replayCommand(options);
    expect(replay).toContain('CHAOS_SEED=11 CHAOS_CHANNEL=rabbitmq ');
    const env = Object.fromEntries([...replay.matchAll(/(CHAOS_[A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    expect(optionsFromEnv(Number(env.CHAOS_SEED), env)).toEqual(options);
  });

  it('bring a short run\'s faults closer together, and keep the usual pace for long runs', () => {
    for (const channel of CHAOS_CHANNELS) {
      const short = optionsFromEnv(1, { CHAOS_DURATION_S: '120', CHAOS_CHANNEL: channel });
      expect(short.faultEveryMs).toBeLessThan(12_000);
      expect(short.faultEveryMs * (faultKindsFor(channel).length - 1)).toBeLessThanOrEqual(120_000 - FAULTS_FROM_MS - FAULTS_UNTIL_BEFORE_END_MS);
      expect(optionsFromEnv(1, { CHAOS_DURATION_S: '1800', CHAOS_CHANNEL: channel }).faultEveryMs).toBe(12_000);
    }
  });

  it('take the broker from CHAOS_BROKER only, kafka by default, never from the seed', () => {
    for (let seed = 0; seed < 30; seed++) expect(optionsFromEnv(seed, {})).toMatchObject({ broker: 'kafka', channel: channelForSeed(seed) });
    expect(optionsFromEnv(9, { CHAOS_BROKER: '' }).broker).toBe('kafka');
    expect(optionsFromEnv(9, { CHAOS_BROKER: 'kafka' }).broker).toBe('kafka');
    expect(() => optionsFromEnv(9, { CHAOS_BROKER: 'nats' })).toThrow(/CHAOS_BROKER must be one of kafka, custom, got "nats"/);
  });

  it('run the custom broker on the rabbitmq channel whatever the seed, and refuse another channel in words', () => {
    // Seeds 9 and 10 would pick kafka and redis by themselves.
    expect([9, 10, 11].map((seed) => optionsFromEnv(seed, { CHAOS_BROKER: 'custom' }).channel)).toEqual(['rabbitmq', 'rabbitmq', 'rabbitmq']);
    expect(optionsFromEnv(9, { CHAOS_BROKER: 'custom', CHAOS_CHANNEL: 'rabbitmq' }).channel).toBe('rabbitmq');
    for (const channel of ['kafka', 'redis']) {
      expect(() => optionsFromEnv(9, { CHAOS_BROKER: 'custom', CHAOS_CHANNEL: channel })).toThrow(`CHAOS_BROKER=custom runs on the rabbitmq channel only`);
      expect(() => optionsFromEnv(9, { CHAOS_BROKER: 'custom', CHAOS_CHANNEL: channel })).toThrow(`got CHAOS_CHANNEL=${channel}`);
    }
  });

  it('name CHAOS_BROKER in the replay line of a custom run only, and replay it', () => {
    const custom = optionsFromEnv(10, { CHAOS_DURATION_S: '120', CHAOS_BROKER: 'custom' });
    const replay = replayCommand(custom);
    expect(replay).toMatch(/^CHAOS_BROKER=custom CHAOS_SEED=10 CHAOS_CHANNEL=rabbitmq /);
    const env = Object.fromEntries([...replay.matchAll(/(CHAOS_[A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    expect(optionsFromEnv(Number(env.CHAOS_SEED), env)).toEqual(custom);
    expect(replayCommand(optionsFromEnv(10, { CHAOS_DURATION_S: '120' }))).not.toContain('CHAOS_BROKER');
  });
});

// The chaos run's fault schedule and knobs: a short run (CI's 120 s) holds every fault
// kind of its channel at least once whatever the seed, faults stay inside the run, the
// channel alternates with the seed unless CHAOS_CHANNEL names one, and the same seed
// gives the same schedule.
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, faultKindsFor, faultSchedule } from '../../chaos/support/faults.js';
import { FAULTS_FROM_MS, FAULTS_UNTIL_BEFORE_END_MS, optionsFromEnv } from '../../chaos/support/options.js';
import { Random } from '../../chaos/support/random.js';

const scheduleFor = (seed: number, env: Record<string, string> = {}) => {
  const options = optionsFromEnv(seed, env);
  return { options, schedule: faultSchedule(new Random(seed), options.channel, FAULTS_FROM_MS, options.durationMs - FAULTS_UNTIL_BEFORE_END_MS, options.faultEveryMs, new Set(options.skipFaults)) };
};

describe('chaos fault schedule', () => {
  it('covers every kind of the channel in a 120 s run, for many seeds', () => {
    for (let seed = 0; seed < 200; seed++) {
      const { options, schedule } = scheduleFor(seed, { CHAOS_DURATION_S: '120' });
      const kinds = new Set(schedule.map((f) => f.kind));
      expect({ seed, missing: faultKindsFor(options.channel).filter((k) => !kinds.has(k)) }).toEqual({ seed, missing: [] });
      for (const fault of schedule) {
        expect(fault.atMs).toBeGreaterThanOrEqual(FAULTS_FROM_MS);
        expect(fault.atMs).toBeLessThanOrEqual(options.durationMs - FAULTS_UNTIL_BEFORE_END_MS + options.faultEveryMs / 4);
      }
    }
  });

  it('still covers every kind when CHAOS_FAULT_EVERY_S asks for fewer faults than there are kinds', () => {
    const { options, schedule } = scheduleFor(7, { CHAOS_DURATION_S: '60', CHAOS_FAULT_EVERY_S: '30', CHAOS_CHANNEL: 'redis' });
    expect(options.faultEveryMs).toBe(30_000);
    expect(new Set(schedule.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
  });

  it('repeats every kind in a long run at the asked pace', () => {
    const { schedule } = scheduleFor(11, { CHAOS_DURATION_S: '1800', CHAOS_FAULT_EVERY_S: '20', CHAOS_CHANNEL: 'kafka' });
    expect(schedule.length).toBe(Math.floor((1800_000 - FAULTS_FROM_MS - FAULTS_UNTIL_BEFORE_END_MS) / 20_000) + 1);
    const counts = new Map<string, number>();
    for (const f of schedule) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
    expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(5);
    expect(counts.has('kill-relay')).toBe(false);
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

describe('chaos options', () => {
  it('alternate the channel by seed unless CHAOS_CHANNEL names one', () => {
    expect(optionsFromEnv(10, {}).channel).toBe('kafka');
    expect(optionsFromEnv(11, {}).channel).toBe('redis');
    expect(optionsFromEnv(10, { CHAOS_CHANNEL: 'redis' }).channel).toBe('redis');
    expect(() => optionsFromEnv(10, { CHAOS_CHANNEL: 'rabbitmq' })).toThrow(/CHAOS_CHANNEL/);
  });

  it('bring a short run\'s faults closer together, and keep the usual pace for long runs', () => {
    const short = optionsFromEnv(1, { CHAOS_DURATION_S: '120' });
    expect(short.faultEveryMs).toBeLessThan(12_000);
    expect(short.faultEveryMs * (faultKindsFor(short.channel).length - 1)).toBeLessThanOrEqual(120_000 - FAULTS_FROM_MS - FAULTS_UNTIL_BEFORE_END_MS);
    expect(optionsFromEnv(1, { CHAOS_DURATION_S: '1800' }).faultEveryMs).toBe(12_000);
  });
});

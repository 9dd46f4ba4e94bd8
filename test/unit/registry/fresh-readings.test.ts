import { describe, expect, it } from 'vitest';
import { FreshReadings } from '../../../processors/registry/fresh-readings.js';

describe('fresh readings of a registry', () => {
  it('a caller during a reading waits for the next one, which all such callers share', async () => {
    const started: number[] = [];
    const finish: (() => void)[] = [];
    const readings = new FreshReadings(() => {
      started.push(started.length + 1);
      return new Promise<void>((resolve) => finish.push(resolve));
    });
    const first = readings.next();
    const [second, third] = [readings.next(), readings.next()];
    expect(started).toEqual([1]); // the second reading waits for the first to end
    finish[0]?.();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([1, 2]);
    let settled = false;
    void second.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false); // only a reading begun after it asked answers it
    finish[1]?.();
    await Promise.all([second, third]);
    expect(started).toEqual([1, 2]);
  });

  it('a failed reading fails its callers and the next call reads again', async () => {
    let calls = 0;
    const readings = new FreshReadings(async () => {
      calls += 1;
      if (calls === 1) throw new Error('away');
    });
    await expect(readings.next()).rejects.toThrow('away');
    await expect(readings.next()).resolves.toBeUndefined();
    await readings.settled();
    expect(calls).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { WakeUp } from '../../../core/wake-up.js';

describe('WakeUp', () => {
  it('sleeps its whole time when nothing wakes it', async () => {
    const began = Date.now();
    await new WakeUp().sleep(60);
    expect(Date.now() - began).toBeGreaterThanOrEqual(55);
  });

  it('is cut short by a wake-up during the sleep', async () => {
    const wakeUp = new WakeUp();
    const began = Date.now();
    const sleeping = wakeUp.sleep(5_000);
    setTimeout(() => wakeUp.wake(), 20);
    await sleeping;
    expect(Date.now() - began).toBeLessThan(1_000);
  });

  it('keeps a wake-up that came while busy, so the next sleep ends at once, and only that one', async () => {
    const wakeUp = new WakeUp();
    wakeUp.wake();
    const began = Date.now();
    await wakeUp.sleep(5_000);
    expect(Date.now() - began).toBeLessThan(100);
    const again = Date.now();
    await wakeUp.sleep(50);
    expect(Date.now() - again).toBeGreaterThanOrEqual(45);
  });
});

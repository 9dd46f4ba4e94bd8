import { describe, expect, it } from 'vitest';
import { OrderWindow } from '../../../channels/order-window.js';

describe('OrderWindow', () => {
  it('commits up to the oldest unsettled order, then past the last one', () => {
    const window = new OrderWindow();
    for (const offset of [10n, 11n, 12n]) window.started(offset);
    window.settled(11n);
    window.settled(12n);
    expect(window.committable()).toBe(10n);
    window.settled(10n);
    expect(window.committable()).toBe(13n);
    expect(window.inFlight).toBe(0);
  });

  it('knows the orders it started, so one handed again after a rebalance is not started twice', () => {
    const window = new OrderWindow();
    window.started(5n);
    expect([window.isNew(4n), window.isNew(5n), window.isNew(6n)]).toEqual([false, false, true]);
  });
});

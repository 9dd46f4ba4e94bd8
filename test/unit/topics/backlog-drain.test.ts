// The backlog monitor turns a count of waiting orders into a wait: how fast the takers'
// position on task.dispatch moved over the last readings, and how long the orders
// waiting now would take at that pace.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../core/log.js';
import { BacklogMonitor, MIN_ORDERS_FOR_WAIT, type BacklogReading } from '../../../topics/backlog.js';

const POLL_MS = 1_000;

/** A monitor over scripted readings, polled by fake timers; returns a way to take n polls. */
function scripted(readings: (BacklogReading | Error)[]) {
  let i = 0;
  const monitor = new BacklogMonitor(
    async () => {
      const next = readings[Math.min(i++, readings.length - 1)];
      if (next === undefined || next instanceof Error) throw next ?? new Error('no reading');
      return next;
    },
    { pollMs: POLL_MS, log: createLogger({ component: 'test' }), clock: () => Date.now(), staleAfterMs: 60_000 },
  );
  monitor.start();
  return { monitor, polls: (n: number) => vi.advanceTimersByTimeAsync(n * POLL_MS) };
}

describe('BacklogMonitor drain', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_750_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('measures the pace at which orders are taken and the wait of those queued, once readings span 10 s', async () => {
    // 20 orders taken per second, 400 waiting.
    const { monitor, polls } = scripted(Array.from({ length: 20 }, (_, s) => ({ requests: 0, orders: 400, ordersTaken: 1_000 + 20 * s })));
    await polls(9);
    expect(monitor.state().drain).toBeUndefined();
    await polls(1);
    expect(monitor.state().drain).toEqual({ ordersPerSecond: 20, ordersWaitMs: 20_000 });
    await monitor.stop();
  });

  it('says the wait has no end when orders wait and none is taken', async () => {
    const stuck = scripted(Array.from({ length: 12 }, () => ({ requests: 0, orders: 150, ordersTaken: 7 })));
    await stuck.polls(9);
    expect(stuck.monitor.state().drain).toBeUndefined();
    await stuck.polls(1);
    expect(stuck.monitor.state().drain).toEqual({ ordersPerSecond: 0, ordersWaitMs: Number.POSITIVE_INFINITY });
    await stuck.monitor.stop();
  });

  it('judges no pace while fewer than MIN_ORDERS_FOR_WAIT orders wait, and measures a burst after an idle spell from its start', async () => {
    // Idle for 10 s (a few orders, taken as they come), then 1,000 orders taken at 100/s.
    const idle = Array.from({ length: 10 }, (_, s) => ({ requests: 0, orders: MIN_ORDERS_FOR_WAIT - 1, ordersTaken: s }));
    const burst = Array.from({ length: 15 }, (_, s) => ({ requests: 0, orders: 1_000, ordersTaken: 10 + 100 * s }));
    const { monitor, polls } = scripted([...idle, ...burst]);
    await polls(9);
    expect(monitor.state().drain).toBeUndefined();
    await polls(9);
    expect(monitor.state().drain).toBeUndefined();
    await polls(2);
    expect(monitor.state().drain).toEqual({ ordersPerSecond: 100, ordersWaitMs: 10_000 });
    await monitor.stop();
  });

  it('measures over the last 15 s only, and starts again after a failed reading', async () => {
    // 100/s for 20 s, then 10/s: after 16 s more the window holds only the slow pace.
    const fast = Array.from({ length: 20 }, (_, s) => ({ requests: 0, orders: 500, ordersTaken: 100 * s }));
    const slow = Array.from({ length: 20 }, (_, s) => ({ requests: 0, orders: 500, ordersTaken: 1_900 + 10 * (s + 1) }));
    const { monitor, polls } = scripted([...fast, ...slow]);
    await polls(19);
    expect(monitor.state().drain?.ordersPerSecond).toBe(100);
    await polls(17);
    expect(monitor.state().drain).toEqual({ ordersPerSecond: 10, ordersWaitMs: 50_000 });
    await monitor.stop();

    const gap = scripted([...fast.slice(0, 5), new Error('broker away'), ...fast.slice(6, 8)]);
    await gap.polls(5);
    expect(gap.monitor.state().drain).toBeUndefined();
    await gap.monitor.stop();
  });

  it('measures the pace of rollback orders beside that of run orders, when they are read', async () => {
    // Run orders drain at 50/s; 300 rollback orders wait and 5 are taken per second.
    const { monitor, polls } = scripted(Array.from({ length: 15 }, (_, s) => ({ requests: 0, orders: 200, ordersTaken: 50 * s, rollbacks: 300, rollbacksTaken: 5 * s })));
    await polls(10);
    expect(monitor.state().drain).toEqual({ ordersPerSecond: 50, ordersWaitMs: 4_000 });
    expect(monitor.state().rollbackDrain).toEqual({ ordersPerSecond: 5, ordersWaitMs: 60_000 });
    expect(monitor.state().estimate).toEqual({ requests: 0, orders: 200, rollbacks: 300 });
    await monitor.stop();
  });
});

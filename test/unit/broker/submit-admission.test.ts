import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import { DEFAULT_SUBMIT_SHEDDING, MAX_ROLLBACK_QUEUE_WAIT_MS, SubmitAdmission, submitSheddingFromEnv } from '../../../processors/broker/kafka/submit-admission.js';
import { MIN_ORDERS_FOR_WAIT } from '../../../topics/backlog.js';
import type { BacklogState } from '../../../topics/backlog.js';

const NOW = 1_750_000_000_000;
/** A task timeout long enough that its share never caps the order wait. */
const HOUR = 3_600_000;

function recordingLog(): Logger & { warnings: unknown[] } {
  const warnings: unknown[] = [];
  const noop = (): void => undefined;
  const log: Logger & { warnings: unknown[] } = {
    warnings,
    debug: noop,
    info: noop,
    error: noop,
    warn: (msg, fields) => void warnings.push({ msg, ...fields }),
    child: () => log,
  };
  return log;
}

const backlogOf = (state: BacklogState) => ({ state: () => state });

describe('SubmitAdmission', () => {
  it('refuses a request that waited longer than the limit, and takes one that did not', () => {
    const admission = new SubmitAdmission({ ...DEFAULT_SUBMIT_SHEDDING, maxRequestAgeMs: 5_000 }, undefined, recordingLog());
    expect(admission.verdict(NOW - 5_000, NOW, HOUR)).toBeUndefined();
    expect(admission.verdict(NOW - 5_001, NOW, HOUR)).toBe('the request waited 5001 ms for the broker (limit 5000 ms)');
    expect(admission.shed).toEqual({ requestAge: 1, orderWait: 0, orders: 0 });
  });

  it('counts a timestamp from a clock ahead, or none, as no wait', () => {
    const admission = new SubmitAdmission({ ...DEFAULT_SUBMIT_SHEDDING, maxRequestAgeMs: 1 }, undefined, recordingLog());
    expect(admission.verdict(NOW + 60_000, NOW, HOUR)).toBeUndefined();
    expect(admission.verdict(Number('not a number'), NOW, HOUR)).toBeUndefined();
  });

  it('refuses while the orders waiting would take longer than the limit to drain, judged from MIN_ORDERS_FOR_WAIT orders on', () => {
    const options = { ...DEFAULT_SUBMIT_SHEDDING, maxRequestAgeMs: 0, maxQueuedOrders: 0, maxOrderWaitMs: 30_000 };
    const at = (orders: number, ordersPerSecond: number, ordersWaitMs: number) =>
      new SubmitAdmission(options, backlogOf({ fresh: true, estimate: { requests: 0, orders }, ageMs: 10, drain: { ordersPerSecond, ordersWaitMs } }), recordingLog()).verdict(NOW, NOW, HOUR);
    expect(at(600, 20, 30_000)).toBeUndefined();
    expect(at(620, 20, 31_000)).toBe('620 orders wait for a worker, about 31 s at the 20.0/s workers take them (limit 30 s)');
    expect(at(MIN_ORDERS_FOR_WAIT, 0, Number.POSITIVE_INFINITY)).toBe(`${MIN_ORDERS_FOR_WAIT} orders wait for a worker, no worker took one in the last seconds (limit 30 s)`);
    expect(at(MIN_ORDERS_FOR_WAIT - 1, 0, Number.POSITIVE_INFINITY)).toBeUndefined();
    // No pace measured yet: only the count bound could refuse.
    expect(new SubmitAdmission(options, backlogOf({ fresh: true, estimate: { requests: 0, orders: 5_000 }, ageMs: 10 }), recordingLog()).verdict(NOW, NOW, HOUR)).toBeUndefined();
  });

  it('refuses while rollback orders would take longer than the limit to drain, as for run orders', () => {
    const options = { ...DEFAULT_SUBMIT_SHEDDING, maxRequestAgeMs: 0, maxQueuedOrders: 0, maxOrderWaitMs: 30_000 };
    const state = (rollbackWaitMs: number): BacklogState => ({
      fresh: true,
      estimate: { requests: 0, orders: 10, rollbacks: 500 },
      ageMs: 10,
      rollbackDrain: { ordersPerSecond: 10, ordersWaitMs: rollbackWaitMs },
    });
    expect(new SubmitAdmission(options, backlogOf(state(30_000)), recordingLog()).verdict(NOW, NOW, HOUR)).toBeUndefined();
    expect(new SubmitAdmission(options, backlogOf(state(50_000)), recordingLog()).verdict(NOW, NOW, HOUR)).toBe('500 rollback orders wait for a worker, about 50 s at the 10.0/s workers take them (limit 30 s)');
  });

  it('tells the wait a rollback order can expect, 0 without a measured pace, capped at MAX_ROLLBACK_QUEUE_WAIT_MS', () => {
    const options = { ...DEFAULT_SUBMIT_SHEDDING };
    const wait = (state: BacklogState) => new SubmitAdmission(options, backlogOf(state), recordingLog()).rollbackQueueWaitMs();
    const estimate = { requests: 0, orders: 0, rollbacks: 600 };
    expect(wait({ fresh: true, estimate, ageMs: 10, rollbackDrain: { ordersPerSecond: 10, ordersWaitMs: 60_000 } })).toBe(60_000);
    expect(wait({ fresh: true, estimate, ageMs: 10, rollbackDrain: { ordersPerSecond: 0, ordersWaitMs: Number.POSITIVE_INFINITY } })).toBe(MAX_ROLLBACK_QUEUE_WAIT_MS);
    expect(wait({ fresh: false, estimate, ageMs: 60_000, rollbackDrain: { ordersPerSecond: 10, ordersWaitMs: 60_000 } })).toBe(0);
    expect(wait({ fresh: true, estimate, ageMs: 10 })).toBe(0);
    expect(new SubmitAdmission(options, undefined, recordingLog()).rollbackQueueWaitMs()).toBe(0);
  });

  it("caps the order wait a task may expect at a quarter of the task's own timeout", () => {
    const options = { ...DEFAULT_SUBMIT_SHEDDING, maxRequestAgeMs: 0, maxQueuedOrders: 0, maxOrderWaitMs: 30_000 };
    const admission = new SubmitAdmission(options, backlogOf({ fresh: true, estimate: { requests: 0, orders: 400 }, ageMs: 10, drain: { ordersPerSecond: 20, ordersWaitMs: 20_000 } }), recordingLog());
    expect(admission.verdict(NOW, NOW, 120_000)).toBeUndefined();
    expect(admission.verdict(NOW, NOW, 60_000)).toBe('400 orders wait for a worker, about 20 s at the 20.0/s workers take them (limit 15 s)');
  });

  it('refuses while a fresh reading shows the orders bound reached, never on a stale or missing one', () => {
    const options = { ...DEFAULT_SUBMIT_SHEDDING, maxRequestAgeMs: 0, maxQueuedOrders: 100, maxOrderWaitMs: 0 };
    const at = (state: BacklogState) => new SubmitAdmission(options, backlogOf(state), recordingLog()).verdict(NOW, NOW, HOUR);
    expect(at({ fresh: true, estimate: { requests: 0, orders: 99 }, ageMs: 10 })).toBeUndefined();
    expect(at({ fresh: true, estimate: { requests: 0, orders: 100 }, ageMs: 10 })).toBe('100 orders wait for a worker (limit 100)');
    expect(at({ fresh: false, estimate: { requests: 0, orders: 5_000 }, ageMs: 60_000, error: 'timeout' })).toBeUndefined();
    expect(at({ fresh: true, ageMs: 10 })).toBeUndefined();
  });

  it('turns each check off with 0', () => {
    const admission = new SubmitAdmission(
      { ...DEFAULT_SUBMIT_SHEDDING, maxRequestAgeMs: 0, maxQueuedOrders: 0, maxOrderWaitMs: 0 },
      backlogOf({ fresh: true, estimate: { requests: 0, orders: 1e6 }, drain: { ordersPerSecond: 0, ordersWaitMs: Number.POSITIVE_INFINITY } }),
      recordingLog(),
    );
    expect(admission.verdict(NOW - 3_600_000, NOW, HOUR)).toBeUndefined();
  });

  it('says it sheds in the log at most every 10 s, with how many it refused since', () => {
    const log = recordingLog();
    const admission = new SubmitAdmission({ ...DEFAULT_SUBMIT_SHEDDING, maxRequestAgeMs: 1_000 }, undefined, log);
    for (let i = 0; i < 5; i++) admission.verdict(NOW - 2_000, NOW + i, HOUR);
    admission.verdict(NOW + 10_000 - 2_000, NOW + 10_000, HOUR);
    expect(log.warnings).toEqual([
      expect.objectContaining({ refused: 1, latest: 'the request waited 2000 ms for the broker (limit 1000 ms)' }),
      expect.objectContaining({ refused: 5, since: { requestAge: 6, orderWait: 0, orders: 0 } }),
    ]);
  });
});

describe('submitSheddingFromEnv', () => {
  it('reads each setting over the defaults, 0 included', () => {
    expect(submitSheddingFromEnv({})).toEqual(DEFAULT_SUBMIT_SHEDDING);
    expect(submitSheddingFromEnv({ STACKL_BROKER_MAX_REQUEST_AGE_MS: '0', STACKL_BROKER_MAX_QUEUED_ORDERS: '500', STACKL_BROKER_MAX_ORDER_WAIT_MS: '0', STACKL_BROKER_BACKLOG_POLL_MS: '250' })).toEqual({
      maxRequestAgeMs: 0,
      maxQueuedOrders: 500,
      maxOrderWaitMs: 0,
      backlogPollMs: 250,
    });
  });

  it('refuses what is not a whole number in range, naming the setting', () => {
    expect(() => submitSheddingFromEnv({ STACKL_BROKER_MAX_QUEUED_ORDERS: 'lots' })).toThrow(ConfigError);
    expect(() => submitSheddingFromEnv({ STACKL_BROKER_MAX_REQUEST_AGE_MS: '-1' })).toThrow(/STACKL_BROKER_MAX_REQUEST_AGE_MS must be a whole number ≥ 0 \(0 turns the check off\), got "-1"/);
    expect(() => submitSheddingFromEnv({ STACKL_BROKER_BACKLOG_POLL_MS: '10' })).toThrow(/STACKL_BROKER_BACKLOG_POLL_MS must be a whole number ≥ 100, got "10"/);
  });
});

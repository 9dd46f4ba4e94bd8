// The admission rules on their own: a clock and produce functions stand in for time and
// Kafka (the integration tests in test/integration/api/overload.test.ts use the real one).
import { describe, expect, it, vi } from 'vitest';
import { Admission } from '../../../api/admission.js';
import { BacklogMonitor, type BacklogReading } from '../../../topics/backlog.js';
import { createLogger } from '../../../core/log.js';

const log = createLogger({ component: 'test' });
const options = { maxPendingSubmits: 2, submitTimeoutMs: 200, maxBacklog: 100, maxQueuedOrders: 50, retryAfterSeconds: 3 };
const kafkaError = (type: string) => Object.assign(new Error(`broker said ${type}`), { name: 'KafkaJSProtocolError', type });
const never = () => new Promise<never>(() => {});

async function refusal(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (error === undefined) throw new Error('expected a refusal');
  return error as Record<string, unknown>;
}

describe('admission', () => {
  it('bounds the commands waiting for Kafka: the one beyond is refused at once, the bound frees as answers come', async () => {
    const admission = new Admission(options, undefined, log);
    const answers: Array<(v: string) => void> = [];
    const held = () => new Promise<string>((resolve) => answers.push(resolve));
    const first = admission.send('submit', held);
    const second = admission.send('operate', held);
    expect(admission.inFlight).toBe(2);
    const third = await refusal(admission.send('submit', held));
    expect(third).toMatchObject({ code: 'OVERLOADED', httpStatus: 503, retriable: true, details: { reason: 'pending', pending: 2, retryAfterSeconds: 3 } });
    expect(answers).toHaveLength(2);
    answers[0]?.('a');
    expect(await first).toBe('a');
    await expect(admission.send('submit', async () => 'c')).resolves.toBe('c');
    answers[1]?.('b');
    await second;
    expect(admission.shed.pending).toBe(1);
  });

  it('answers a produce Kafka refuses with 503 OVERLOADED naming the broker error, then sheds for Retry-After seconds', async () => {
    let now = 1_000_000;
    const admission = new Admission(options, undefined, log, () => now);
    const wrapped = Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: kafkaError('NOT_ENOUGH_REPLICAS') });
    const failed = await refusal(admission.send('submit', () => Promise.reject(wrapped)));
    expect(failed).toMatchObject({ code: 'OVERLOADED', httpStatus: 503, details: { reason: 'kafka', kafkaError: 'NOT_ENOUGH_REPLICAS', retryAfterSeconds: 3 } });
    let produced = 0;
    const produce = async () => {
      produced += 1;
      return 'ok';
    };
    now += 2999;
    expect(await refusal(admission.send('operate', produce))).toMatchObject({ details: { reason: 'kafka' } });
    expect(admission.readiness()).toMatchObject({ ready: false, reasons: [expect.stringContaining('NOT_ENOUGH_REPLICAS')] });
    now += 1;
    await expect(admission.send('submit', produce)).resolves.toBe('ok');
    expect(produced).toBe(1);
  });

  it('answers a produce that outlives the submit timeout with 503 (outcome unknown), and keeps counting it as pending until Kafka answers', async () => {
    const admission = new Admission({ ...options, maxPendingSubmits: 1 }, undefined, log);
    let answer: (v: string) => void = () => {};
    const began = Date.now();
    const slow = await refusal(admission.send('submit', () => new Promise<string>((resolve) => (answer = resolve))));
    expect(Date.now() - began).toBeGreaterThanOrEqual(190);
    expect(slow).toMatchObject({ code: 'OVERLOADED', details: { reason: 'kafka', outcome: 'unknown' }, message: expect.stringContaining('same idempotencyKey') });
    expect(admission.inFlight).toBe(1);
    answer('late');
    await new Promise((resolve) => setImmediate(resolve));
    expect(admission.inFlight).toBe(0);
  });

  it('passes its own refusals through untouched and does not count them against Kafka', async () => {
    const admission = new Admission(options, undefined, log);
    const bug = new TypeError('not Kafka');
    await expect(admission.send('submit', () => Promise.reject(bug))).rejects.toBe(bug);
    await expect(admission.send('submit', async () => 'fine')).resolves.toBe('fine');
    expect(admission.shed.kafka).toBe(0);
  });
});

describe('admission with the backlog', () => {
  async function monitorWith(reading: () => BacklogReading | Error, clock: () => number = Date.now) {
    const monitor = new BacklogMonitor(async () => {
      const r = reading();
      if (r instanceof Error) throw r;
      return r;
    }, { pollMs: 60_000, log, clock, staleAfterMs: 5000 });
    monitor.start();
    await monitor.stop(); // one reading taken; no timer left behind
    return monitor;
  }

  it('refuses submissions while either backlog is at its bound, but lets cancels through', async () => {
    const requestsDeep = new Admission(options, await monitorWith(() => ({ requests: 100, orders: 0 })), log);
    expect(await refusal(requestsDeep.send('submit', never))).toMatchObject({ details: { reason: 'requests', backlog: 100, maxBacklog: 100 } });
    await expect(requestsDeep.send('operate', async () => 'cancelled')).resolves.toBe('cancelled');
    const ordersDeep = new Admission(options, await monitorWith(() => ({ requests: 0, orders: 50 })), log);
    expect(await refusal(ordersDeep.send('submit', never))).toMatchObject({ details: { reason: 'orders', queuedOrders: 50, maxQueuedOrders: 50 } });
    const belowBound = new Admission(options, await monitorWith(() => ({ requests: 99, orders: 49 })), log);
    await expect(belowBound.send('submit', async () => 'in')).resolves.toBe('in');
    const unbounded = new Admission({ ...options, maxBacklog: 0, maxQueuedOrders: 0 }, await monitorWith(() => ({ requests: 10 ** 9, orders: 10 ** 9 })), log);
    await expect(unbounded.send('submit', async () => 'in')).resolves.toBe('in');
  });

  it('counts what it accepted since the last reading, so a burst between readings cannot overshoot the bound', async () => {
    const admission = new Admission({ ...options, maxPendingSubmits: 1000 }, await monitorWith(() => ({ requests: 97, orders: 0 })), log);
    await admission.send('submit', async () => 1);
    await admission.send('submit', async () => 2);
    expect(admission.readiness()).toMatchObject({ ready: true, backlog: { requests: 99 } });
    await admission.send('submit', async () => 3);
    expect(admission.readiness()).toMatchObject({ ready: false, backlog: { requests: 100 } });
    expect(await refusal(admission.send('submit', never))).toMatchObject({ details: { reason: 'requests', backlog: 100 } });
  });

  it('treats a reading Kafka stopped giving as Kafka unavailable, never as an empty backlog', async () => {
    let answer: BacklogReading | Error = { requests: 0, orders: 0 };
    const { admission, clock } = await afterOneReading(async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    });
    clock.now = 5000;
    await expect(admission.send('submit', async () => 'fresh enough')).resolves.toBe('fresh enough');
    clock.now = 5001;
    answer = new Error('Connection timeout');
    expect(await refusal(admission.send('submit', never))).toMatchObject({ details: { reason: 'kafka' }, message: expect.stringContaining('5001 ms') });
  });

  it('does not refuse while the first readings fail (topics getting their leaders), only once none came for as long as a stale one', async () => {
    const { admission, clock } = await afterOneReading(async () => {
      throw new Error('This server is not the leader for that topic-partition');
    });
    clock.now = 5000;
    await expect(admission.send('submit', async () => 'young')).resolves.toBe('young');
    clock.now = 5001;
    expect(await refusal(admission.send('submit', never))).toMatchObject({ details: { reason: 'kafka' }, message: expect.stringContaining('not the leader') });
  });
});

/** An admission whose monitor took one reading at time 0 (stale after 5 s) and polls no more; `clock.now` moves time. */
async function afterOneReading(read: () => Promise<BacklogReading>): Promise<{ admission: Admission; clock: { now: number } }> {
  const clock = { now: 0 };
  const monitor = new BacklogMonitor(read, { pollMs: 60_000, log, clock: () => clock.now, staleAfterMs: 5000 });
  monitor.start();
  await monitor.stop();
  return { admission: new Admission(options, monitor, log, () => clock.now), clock };
}

describe('admission by how long the queued orders would take', () => {
  it('refuses a submission while the orders waiting would not drain within maxOrderWaitMs, and lets cancels through', async () => {
    vi.useFakeTimers({ now: 1_750_000_000_000 });
    try {
      // 20 orders taken per second, 1,000 waiting: 50 s of work queued.
      let second = 0;
      const monitor = new BacklogMonitor(async () => ({ requests: 0, orders: 1_000, ordersTaken: 20 * second++ }), { pollMs: 1_000, log, staleAfterMs: 60_000 });
      monitor.start();
      // The pace is judged once readings span 10 s.
      await vi.advanceTimersByTimeAsync(11_000);
      const admission = new Admission({ ...options, maxQueuedOrders: 0, maxOrderWaitMs: 30_000 }, monitor, log);
      expect(await refusal(admission.send('submit', async () => 'sent'))).toMatchObject({
        code: 'OVERLOADED',
        httpStatus: 503,
        details: { reason: 'orders', queue: 'run', queuedOrders: 1_000, ordersPerSecond: 20, maxOrderWaitMs: 30_000 },
        message: expect.stringContaining('1000 orders wait for a worker, about 50 s at the 20.0/s workers take them (limit 30 s)'),
      });
      await expect(admission.send('operate', async () => 'cancel sent')).resolves.toBe('cancel sent');
      const patient = new Admission({ ...options, maxQueuedOrders: 0, maxOrderWaitMs: 60_000 }, monitor, log);
      await expect(patient.send('submit', async () => 'sent')).resolves.toBe('sent');
      await monitor.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

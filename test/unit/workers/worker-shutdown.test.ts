// The worker's own decisions, on an in-memory channel: orders that cannot finish before
// their deadline are not started, and stop() lets work finish (or, past the grace,
// reports it failed) before it closes the channel.
import { describe, expect, it } from 'vitest';
import type { WorkOrder } from '../../../channels/work-channel.js';
import type { Manager } from '../../../workers/manager.js';
import { builtInManagers } from '../../../workers/managers/index.js';
import { Worker } from '../../../workers/worker.js';
import { attempt, MemoryChannel } from './memory-channel.js';

async function started(managers: ReadonlyMap<string, Manager>, shutdownGraceMs = 30_000) {
  const channel = new MemoryChannel();
  const worker = new Worker({ channel, managers, concurrency: 8, shutdownGraceMs });
  await worker.start();
  return { channel, worker };
}

describe('orders that cannot finish before their deadline', () => {
  it('are not started when the task says how long its work takes', async () => {
    const { channel, worker } = await started(builtInManagers());
    await channel.deliver(attempt({ outcome: 'succeed', durationMs: 5_000 }, 1_000));
    expect(channel.results).toEqual([]);
    await channel.deliver(attempt({ outcome: 'succeed', durationMs: 20 }, 1_000));
    // A quick probe's result is its first report (start-report.test.ts).
    expect(channel.results.map((r) => r.type)).toEqual(['AttemptSucceeded']);
    expect(worker.stats()).toMatchObject({ skipped: 1, attempts: 1, succeeded: 1 });
  });

  it('are not started once recent runs of their kind all took longer than the time left', async () => {
    const slow: Manager = {
      run: async () => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return { type: 'succeeded', output: null };
      },
      rollback: async () => ({ type: 'succeeded' }),
    };
    const { channel, worker } = await started(new Map([['document', slow]]));
    // Too few runs to judge: the order runs, even with little time left.
    await channel.deliver(attempt({}, 40, 'document'));
    for (let i = 0; i < 2; i++) await channel.deliver(attempt({}, 5_000, 'document'));
    expect(worker.stats()).toMatchObject({ skipped: 0, attempts: 3 });
    await channel.deliver(attempt({}, 30, 'document'));
    expect(worker.stats()).toMatchObject({ skipped: 1, attempts: 3 });
    await channel.deliver(attempt({}, 5_000, 'document'));
    expect(worker.stats()).toMatchObject({ skipped: 1, attempts: 4 });
  });
});

describe('stop', () => {
  it('stops taking, lets the attempts in flight finish and report, then closes the channel', async () => {
    const { channel, worker } = await started(builtInManagers());
    const work = [1, 2, 3].map(() => channel.deliver(attempt({ outcome: 'succeed', durationMs: 150 }, 10_000)));
    await worker.stop();
    await Promise.all(work);
    expect(channel.calls.filter((c) => c !== 'AttemptStarted')).toEqual(['stopTaking', 'AttemptSucceeded', 'AttemptSucceeded', 'AttemptSucceeded', 'close']);
    expect(channel.results.filter((r) => r.type === 'AttemptSucceeded')).toHaveLength(3);
    expect(worker.stats()).toMatchObject({ abandoned: 0, inFlight: 0 });
  });

  it('past the grace, reports what still runs as a retriable failure, so the broker need not wait for its deadline', async () => {
    const { channel, worker } = await started(builtInManagers(), 50);
    const work = channel.deliver(attempt({ outcome: 'succeed', durationMs: 60_000 }, 120_000));
    const began = Date.now();
    await worker.stop();
    await work;
    expect(Date.now() - began).toBeLessThan(5_000);
    const failed = channel.results.find((r) => r.type === 'AttemptFailed');
    expect(failed?.body).toMatchObject({ attempt: 1, retriable: true, message: expect.stringContaining('STACKL_SHUTDOWN_GRACE_MS') });
    // The grace (50 ms) ended before the start-report delay: the failure is the only report.
    expect(channel.calls).toEqual(['stopTaking', 'AttemptFailed', 'close']);
    expect(worker.stats().abandoned).toBe(1);
  });
});

describe('two orders of one task at once (a redelivered older attempt beside the retry)', () => {
  it('carries the task correlation on every result of the newer attempt, after the older one ended', async () => {
    const { channel } = await started(builtInManagers());
    const retry = attempt({ outcome: 'succeed', durationMs: 200 }, 10_000);
    if (retry.type !== 'RunAttempt') throw new Error('attempt() makes RunAttempt orders');
    const traced: WorkOrder = { ...retry, correlationId: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', body: { ...retry.body, attempt: 2 } };
    const older: WorkOrder = { ...retry, correlationId: traced.correlationId, eventId: `${retry.eventId}-older`, body: { ...retry.body, attempt: 1, task: { ...retry.body.task, payload: JSON.stringify({ outcome: 'succeed', durationMs: 10 }) } } };
    const newer = channel.deliver(traced);
    await channel.deliver(older);
    await newer;
    const ofRetry = channel.results.filter((r) => (r.body as { attempt?: number }).attempt === 2);
    expect(ofRetry.map((r) => r.type)).toContain('AttemptSucceeded');
    expect(ofRetry.map((r) => r.correlationId)).toEqual(ofRetry.map(() => traced.correlationId));
  });
});

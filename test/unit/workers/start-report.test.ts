// When the worker reports an attempt's start: before the manager runs (the default, for
// managers that change things), or lazily for managers that say when they first change
// something (the probe changes nothing): then a quick attempt's result is its only report.
import { describe, expect, it } from 'vitest';
import type { Manager, WorkContext } from '../../../workers/manager.js';
import { builtInManagers } from '../../../workers/managers/index.js';
import { Worker } from '../../../workers/worker.js';
import { attempt, MemoryChannel } from './memory-channel.js';

async function started(managers: ReadonlyMap<string, Manager>, startReportAfterMs?: number) {
  const channel = new MemoryChannel();
  const worker = new Worker({ channel, managers, concurrency: 8, ...(startReportAfterMs === undefined ? {} : { startReportAfterMs }) });
  await worker.start();
  return { channel, worker };
}

/** A manager that notes what happened, in order, beside the channel's reports. */
function noting(channel: MemoryChannel, startReport: Manager['startReport'], work: (ctx: WorkContext) => Promise<void>): Manager {
  return {
    ...(startReport === undefined ? {} : { startReport }),
    run: async (ctx) => {
      channel.calls.push('run');
      await work(ctx);
      return { type: 'succeeded', output: null };
    },
    rollback: async () => ({ type: 'succeeded' }),
  };
}

describe('start reports', () => {
  it('a quick probe reports only its outcome; the broker records the start with it', async () => {
    const { channel } = await started(builtInManagers());
    await channel.deliver(attempt({ outcome: 'succeed' }, 10_000));
    await channel.deliver(attempt({ outcome: 'fail' }, 10_000));
    expect(channel.results.map((r) => r.type)).toEqual(['AttemptSucceeded', 'AttemptFailed']);
  });

  it('a probe that runs past the start-report delay shows its start while it runs, ahead of its outcome', async () => {
    const { channel } = await started(builtInManagers(), 50);
    const work = channel.deliver(attempt({ outcome: 'succeed', durationMs: 400 }, 10_000));
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(channel.results.map((r) => r.type)).toEqual(['AttemptStarted']);
    await work;
    expect(channel.results.map((r) => r.type)).toEqual(['AttemptStarted', 'AttemptSucceeded']);
    expect(channel.results[0]?.body).toMatchObject({ attempt: 1 });
  });

  it('a task with a heartbeat timeout reports its start at once, since its heartbeat deadline counts from it', async () => {
    const { channel } = await started(builtInManagers());
    await channel.deliver(attempt({ outcome: 'succeed' }, 10_000, 'probe', { heartbeatTimeoutMs: 60_000 }));
    expect(channel.results.map((r) => r.type)).toEqual(['AttemptStarted', 'AttemptSucceeded']);
  });

  it('a manager that does not say when it changes things has its start reported before it runs', async () => {
    const channel = new MemoryChannel();
    const worker = new Worker({ channel, managers: new Map([['document', noting(channel, undefined, async () => {})]]), concurrency: 1 });
    await worker.start();
    await channel.deliver(attempt({}, 10_000, 'document'));
    expect(channel.calls).toEqual(['AttemptStarted', 'run', 'AttemptSucceeded']);
  });

  it('a lazy manager has its start reported once, before its first change, however often it asks', async () => {
    const channel = new MemoryChannel();
    const manager = noting(channel, 'before-change', async (ctx) => {
      await ctx.beforeChange();
      channel.calls.push('change 1');
      await ctx.beforeChange();
      channel.calls.push('change 2');
    });
    const worker = new Worker({ channel, managers: new Map([['document', manager]]), concurrency: 1 });
    await worker.start();
    await channel.deliver(attempt({}, 10_000, 'document'));
    expect(channel.calls).toEqual(['run', 'AttemptStarted', 'change 1', 'change 2', 'AttemptSucceeded']);
  });

  it('a start report that fails does not keep the outcome from being reported', async () => {
    const channel = new MemoryChannel();
    const report = channel.report.bind(channel);
    channel.report = async (result) => {
      if (result.type === 'AttemptStarted') throw new Error('channel down for a moment');
      await report(result);
    };
    const worker = new Worker({ channel, managers: builtInManagers(), concurrency: 1, startReportAfterMs: 10 });
    await worker.start();
    await channel.deliver(attempt({ outcome: 'succeed', durationMs: 100 }, 10_000));
    expect(channel.results.map((r) => r.type)).toEqual(['AttemptSucceeded']);
  });
});

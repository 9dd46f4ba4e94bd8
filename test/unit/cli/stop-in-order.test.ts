import { describe, expect, it } from 'vitest';
import { stopInOrder, type Stoppable } from '../../../api/cli/run-until-signal.js';
import { createLogger } from '../../../core/log.js';

const log = createLogger({ component: 'test' });

describe('stopInOrder', () => {
  it('stops each step only once the one before it stopped', async () => {
    const events: string[] = [];
    const role = (name: string, ms: number): Stoppable => ({
      stop: async () => {
        events.push(`${name} stopping`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        events.push(`${name} stopped`);
      },
    });
    const code = await stopInOrder([
      { name: 'api', roles: [role('api', 30)], deadlineMs: 1_000 },
      { name: 'worker', roles: [role('worker', 10)], deadlineMs: 1_000 },
      { name: 'broker', roles: [role('broker', 0)], deadlineMs: 1_000 },
    ], log);
    expect(code).toBe(0);
    expect(events).toEqual(['api stopping', 'api stopped', 'worker stopping', 'worker stopped', 'broker stopping', 'broker stopped']);
  });

  it('goes on past a step that overruns its deadline or fails, and says so in the exit code', async () => {
    const stopped: string[] = [];
    const began = Date.now();
    const code = await stopInOrder([
      { name: 'stuck', roles: [{ stop: () => new Promise<void>(() => {}) }], deadlineMs: 50 },
      { name: 'broken', roles: [{ stop: () => Promise.reject(new Error('no')) }], deadlineMs: 1_000 },
      { name: 'last', roles: [{ stop: async () => void stopped.push('last') }], deadlineMs: 1_000 },
    ], log);
    expect(code).toBe(1);
    expect(stopped).toEqual(['last']);
    expect(Date.now() - began).toBeLessThan(1_000);
  });
});

// The `probe` kind: a built-in diagnostic with no side effects. `succeed` and `fail`
// answer after `durationMs`; `hang` never answers, so the task times out; the
// rollback does what `rollback` says.
import type { AttemptOutcome, Manager, RollbackOutcome } from '../manager.js';
import { parseProbePayload, work } from '../handlers/probe-handler.js';

export const probeManager: Manager = {
  // Changes nothing, so a quick probe needs no start report of its own.
  startReport: 'before-change',
  async run({ task, attempt, signal }): Promise<AttemptOutcome> {
    const payload = parseProbePayload(task.payload);
    if (payload.outcome === 'hang') return { type: 'silent' };
    await work(payload.durationMs ?? 0, signal);
    if (payload.outcome === 'fail') return { type: 'failed', message: `probe failed as asked (attempt ${attempt})`, retriable: true };
    return { type: 'succeeded', output: payload.outputBytes === undefined ? { probe: 'ok', attempt } : { probe: 'ok', attempt, pad: 'x'.repeat(payload.outputBytes) } };
  },
  /** An attempt that succeeds or fails as asked takes its durationMs; the rest answer at once. */
  expectedMs(order) {
    if (order.type === 'RunRollback') return 0;
    try {
      const payload = parseProbePayload(order.body.task.payload);
      return payload.outcome === 'hang' ? 0 : (payload.durationMs ?? 0);
    } catch {
      return undefined; // run() fails it, saying why
    }
  },
  async rollback({ task }): Promise<RollbackOutcome> {
    const payload = parseProbePayload(task.payload);
    if (payload.rollback === 'fail') return { type: 'failed', message: 'probe rollback failed as asked' };
    return { type: 'succeeded' };
  },
};

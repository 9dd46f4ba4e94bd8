// The `probe` kind: a built-in diagnostic with no side effects. `succeed` and `fail`
// answer after `durationMs`; `hang` never answers, so the task times out; the
// rollback does what `rollback` says. Written with implement(), like users' kinds.
import { probeKind } from '../../processors/lifecycle/index.js';
import { work } from '../handlers/probe-handler.js';
import { implement } from '../implement.js';
import { NO_RESULT, TaskFailure } from '../task-failure.js';

export const probeServed = implement(probeKind, {
  // Changes nothing, so a quick probe needs no start report of its own.
  startReport: 'before-change',
  async run(payload, { attempt, signal }) {
    if (payload.outcome === 'hang') return NO_RESULT;
    await work(payload.durationMs ?? 0, signal);
    if (payload.outcome === 'fail') throw new TaskFailure(`probe failed as asked (attempt ${attempt})`, { retriable: true });
    return payload.outputBytes === undefined ? { probe: 'ok', attempt } : { probe: 'ok', attempt, pad: 'x'.repeat(payload.outputBytes) };
  },
  /** An attempt that succeeds or fails as asked takes its durationMs; the rest answer at once. */
  expectedMs: (payload) => (payload.outcome === 'hang' ? 0 : (payload.durationMs ?? 0)),
  async rollback(payload) {
    if (payload.rollback === 'fail') throw new TaskFailure('probe rollback failed as asked');
  },
});

export const probeManager = probeServed.manager;

import { decideCommand } from './decide-command.js';
import { decideResult } from './decide-result.js';
import { decideTick } from './decide-tick.js';
import { assertNever } from './never.js';
import type { TaskState } from './state.js';
import type { DecideContext, LifecycleEvent, LifecycleInput } from './types.js';

/**
 * The decider: what happened, given one input and the task's current state. Pure: the
 * clock, the kind registry and the defaults come in through `ctx`; ids come with the input.
 * An empty array means "nothing changes" (a duplicate, a stale result, an early tick).
 */
export function decide(input: LifecycleInput, state: TaskState, ctx: DecideContext): LifecycleEvent[] {
  return withRollbackQueueWait(decideInput(input, state, ctx), ctx.rollbackQueueWaitMs ?? 0);
}

function decideInput(input: LifecycleInput, state: TaskState, ctx: DecideContext): LifecycleEvent[] {
  switch (input.type) {
    case 'command':
      return decideCommand(input.message, state, ctx);
    case 'result':
      return decideResult(input.message, state, ctx);
    case 'tick':
      return decideTick(state, ctx.now);
    default:
      return assertNever(input, 'input');
  }
}

/**
 * A rollback attempt's deadline covers the wait its order is expected to have in the
 * queue, not only its run: in the 10-minute chaos run at 55 tasks/s rollback orders
 * waited a minute, so most rollback attempts timed out before any worker took them, and
 * each was sent again to the back of the queue (22,927 rollback orders for 10,805
 * failed tasks; one task's rollback was sent ten times).
 */
function withRollbackQueueWait(events: LifecycleEvent[], waitMs: number): LifecycleEvent[] {
  if (waitMs <= 0) return events;
  return events.map((event) => (event.type === 'RollbackDispatched' ? { ...event, body: { ...event.body, deadlineAt: event.body.deadlineAt + waitMs } } : event));
}

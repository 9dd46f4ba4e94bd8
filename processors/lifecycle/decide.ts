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

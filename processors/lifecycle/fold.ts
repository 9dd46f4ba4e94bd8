import type { LifecycleDefaults } from './defaults.js';
import { evolve } from './evolve.js';
import { sequenceOf, type TaskState } from './state.js';
import type { LifecycleEvent } from './types.js';

export interface Folded {
  state: TaskState;
  /** The envelope sequence number of each event, in order. */
  sequences: number[];
}

/**
 * Folds the events decide returned and numbers them for their envelopes: each event gets
 * the sequence of the state it produced. Two events leave no state to read it from:
 * TaskExpunged (numbered one past the last) and a CommandRejected about a task that does
 * not exist (numbered 0, the envelope's "not numbered"), which so never collides with the
 * numbers of a task submitted later under that id.
 */
export function foldEvents(
  state: TaskState,
  events: readonly LifecycleEvent[],
  now: number,
  defaults?: Pick<LifecycleDefaults, 'expungeGraceMs'>,
): Folded {
  const sequences: number[] = [];
  let current = state;
  for (const event of events) {
    const next = evolve(current, event, now, defaults);
    sequences.push(event.type === 'TaskExpunged' ? sequenceOf(current) + 1 : sequenceOf(next));
    current = next;
  }
  return { state: current, sequences };
}

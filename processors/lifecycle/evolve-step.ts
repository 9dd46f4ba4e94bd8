import type { LiveState } from './state.js';

/** Every applied event bumps the sequence and the update time; the rest is the event's own change. */
export function step(state: LiveState, now: number, changes: Partial<Omit<LiveState, 'phase' | 'sequence' | 'updatedAt'>>): LiveState {
  return { ...state, ...changes, sequence: state.sequence + 1, updatedAt: now };
}

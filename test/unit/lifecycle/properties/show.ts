// Compact, readable renderings for counterexamples and traces. Absolute times (fields
// ending in "At") print relative to the fixtures' clock origin: "T+5000".
import {
  defaultLifecycleDefaults,
  nextDeadline,
  positionOf,
  type LifecycleDefaults,
  type LifecycleEvent,
  type TaskState,
} from '../../../../processors/lifecycle/index.js';
import type { SubmitTask } from '../../../../schemas/index.js';
import { submitBody, T0 } from '../fixtures.js';

function showTime(time: number): string {
  return Number.isFinite(time) ? `T+${time - T0}` : String(time);
}

/** JSON-like, but NaN and Infinity stay visible and absolute times are relative. */
export function show(value: unknown, key = ''): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return key.endsWith('At') ? showTime(value) : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map((item) => show(item)).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(([name, item]) => `${name}: ${show(item, name)}`);
  return `{${entries.join(', ')}}`;
}

/** Only what differs from the fixtures' plain submission. */
export function showSubmit(body: SubmitTask): string {
  const changed = (Object.keys(body) as Array<keyof SubmitTask>).filter((name) => show(body[name]) !== show(submitBody[name]));
  return show(Object.fromEntries(changed.map((name) => [name, body[name]])));
}

/** Only what differs from the built-in defaults. */
export function showDefaults(defaults: LifecycleDefaults): string {
  const changed = (Object.keys(defaults) as Array<keyof LifecycleDefaults>).filter(
    (name) => show(defaults[name]) !== show(defaultLifecycleDefaults[name]),
  );
  return show(Object.fromEntries(changed.map((name) => [name, defaults[name]])));
}

export function showEvent(event: LifecycleEvent): string {
  if (event.type === 'TaskSubmitted') return `TaskSubmitted{deadlineAt: ${showTime(event.body.deadlineAt)}}`;
  return `${event.type}${show(event.body)}`;
}

/** The state in one line: position, fencing tokens, sequence and next deadline. */
export function showState(state: TaskState): string {
  const due = nextDeadline(state);
  const next = due === null ? 'none' : showTime(due);
  switch (state.phase) {
    case 'Absent':
    case 'Retired':
      return state.phase;
    case 'Rejected':
      return `Rejected seq=${state.sequence} next=${next}`;
    case 'Live':
      return `${positionOf(state)} attempt=${state.attempt}/${state.task.maxAttempts} rollbackAttempt=${state.rollbackAttempt} seq=${state.sequence} next=${next}`;
  }
}

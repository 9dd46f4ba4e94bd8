// Invariant 5, on its own evidence rather than the shared consistency check: every
// resource present in the environment is attributed to the task that put it there, two
// ways — the task its row names as writer, and the load task whose stack it belongs to
// (every stack of the load has a name of its own) — and both must have completed. A task
// whose rollback was reopened by a late result must have left no document and no
// resource. A long run that never saw a late result did not test this at all: it fails.
import { outcomeOf, type TaskOutcome } from '../../support/consistency.js';
import type { Histories } from './invariants.js';
import type { SubmittedTask } from './load.js';

/** A run this long (or longer) must have seen late results. */
export const LONG_RUN_MS = 600_000;

export interface PresentResource {
  target: string;
  /** "<stack>/<service>". */
  resource: string;
  writtenByTask: string;
}

export interface StoredDocument {
  key: string;
  updatedByTask: string;
}

export interface LeftoverInput {
  tasks: readonly SubmittedTask[];
  histories: Histories;
  resources: readonly PresentResource[];
  documents: readonly StoredDocument[];
  /** Tasks whose rollback a late result reopened (lateResultTasks). */
  late: ReadonlySet<string>;
  durationMs: number;
}

export interface LeftoverResult {
  violations: string[];
  resourcesAttributed: number;
  lateTasks: number;
  lateRolledBack: number;
}

export function leftovers(input: LeftoverInput): LeftoverResult {
  const { tasks, histories, late } = input;
  const violations: string[] = [];
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const stackOwner = new Map(tasks.filter((t) => t.request.kind === 'stack').map((t) => [String((t.request.payload as { name?: unknown }).name), t]));
  const outcome = (taskId: string): TaskOutcome | undefined => outcomeOf(histories.get(taskId) ?? []);
  const label = (task: SubmittedTask): string => `task ${task.taskId} (${task.scenario} #${task.n}${late.has(task.taskId) ? ', had a late result' : ''})`;

  for (const r of input.resources) {
    const place = `${r.resource} on ${r.target}`;
    const writer = byId.get(r.writtenByTask);
    if (writer === undefined) violations.push(`${place} was written by task ${r.writtenByTask}, which the load never submitted`);
    else if (outcome(writer.taskId) !== 'completed' && outcome(writer.taskId) !== 'rollback-failed') violations.push(`${place} was left by ${label(writer)}, which ended ${outcome(writer.taskId) ?? 'never'}`);
    const [stack, service] = r.resource.split('/');
    const owner = stackOwner.get(stack ?? '');
    if (owner === undefined) {
      violations.push(`${place} belongs to stack ${stack}, which no task of the load asked for`);
      continue;
    }
    const ownerOutcome = outcome(owner.taskId);
    const services = ((owner.request.payload as { services?: { name: string }[] }).services ?? []).map((s) => s.name);
    if (ownerOutcome !== 'completed' && ownerOutcome !== 'rollback-failed') violations.push(`${place} belongs to the stack of ${label(owner)}, which ended ${ownerOutcome ?? 'never'}`);
    else if (!services.includes(service ?? '')) violations.push(`${place}: ${label(owner)} never asked for a service ${service}`);
  }

  for (const doc of input.documents) {
    if (late.has(doc.updatedByTask) && outcome(doc.updatedByTask) !== 'completed') violations.push(`document ${doc.key} was left by task ${doc.updatedByTask}, whose rollback a late result reopened`);
  }

  const lateRolledBack = [...late].filter((id) => outcome(id) === 'rolled-back').length;
  if (input.durationMs >= LONG_RUN_MS && late.size === 0) violations.push(`a ${input.durationMs / 1000} s run saw no late result at all: nothing here tested what a late result leaves`);
  return { violations, resourcesAttributed: input.resources.length, lateTasks: late.size, lateRolledBack };
}

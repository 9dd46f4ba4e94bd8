// What a stack task asks of the agents, as pure functions: the instance it records,
// the jobs that bring the environment from the previous instance to the new one, and
// the compensating jobs that bring it back.
import type { StackService } from '../../processors/lifecycle/kinds/stack.js';
import type { Placement } from '../handlers/placement.js';

export const INSTANCE_PREFIX = 'stack/instance/';
export const TARGET_PREFIX = 'infrastructure/target/';

export interface StackInstance {
  services: StackService[];
  placement: Placement[];
}

export interface PlannedJob {
  op: 'apply' | 'remove';
  target: string;
  resource: string;
  spec: Record<string, unknown> | null;
}

export const instanceKey = (stack: string): string => `${INSTANCE_PREFIX}${stack}`;
export const resourceOf = (stack: string, service: string): string => `${stack}/${service}`;
/** A journal entry names one place the task may change: "<target>|<resource>". */
export const journalEntry = (job: Pick<PlannedJob, 'target' | 'resource'>): string => `${job.target}|${job.resource}`;

function parseEntry(entry: string): { target: string; resource: string } {
  const bar = entry.indexOf('|');
  return { target: entry.slice(0, bar), resource: entry.slice(bar + 1) };
}

/** What an agent applies for one service of a stack. */
export function resourceSpec(stack: string, service: StackService): Record<string, unknown> {
  return { stack, service: service.name, config: service.config };
}

/** Every (target, resource) an instance occupies, with its spec. */
export function occupied(stack: string, instance: StackInstance | null): Map<string, PlannedJob> {
  const jobs = new Map<string, PlannedJob>();
  if (instance === null) return jobs;
  const services = new Map(instance.services.map((s) => [s.name, s]));
  for (const { service, target } of instance.placement) {
    const definition = services.get(service);
    if (definition === undefined) continue;
    const job: PlannedJob = { op: 'apply', target, resource: resourceOf(stack, service), spec: resourceSpec(stack, definition) };
    jobs.set(journalEntry(job), job);
  }
  return jobs;
}

/**
 * Jobs from `previous` to `next` (null: no instance). Places an earlier attempt of the
 * same task touched (`touched`) and the next instance does not use are cleared too.
 */
export function transitionJobs(stack: string, previous: StackInstance | null, next: StackInstance | null, touched: readonly string[]): PlannedJob[] {
  const wanted = occupied(stack, next);
  const jobs = [...wanted.values()];
  const stale = new Set([...occupied(stack, previous).keys(), ...touched.filter((e) => parseEntry(e).resource.startsWith(`${stack}/`))]);
  for (const entry of [...stale].sort()) {
    if (!wanted.has(entry)) jobs.push({ op: 'remove', ...parseEntry(entry), spec: null });
  }
  return jobs;
}

/**
 * Compensation: every place the task journaled goes back to the previous instance:
 * re-applied where the previous instance had the service, torn down where it did not.
 */
export function compensatingJobs(stack: string, previous: StackInstance | null, journaled: readonly string[]): PlannedJob[] {
  const before = occupied(stack, previous);
  return journaled.map((entry) => before.get(entry) ?? { op: 'remove', ...parseEntry(entry), spec: null });
}

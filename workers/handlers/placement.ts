// The stack kind's constraint solving (a handler: pure computation, no I/O). Each
// service needs `replicas` distinct targets that offer every capability it requires,
// and no target may host more services than its capacity. Depth-first search with the
// most constrained service first and the least loaded target first, so the common case
// needs no backtracking and the answer is the same for the same input.
import type { StackService, TargetBody } from '../../processors/lifecycle/kinds/stack.js';

export interface Target extends TargetBody {
  name: string;
}

export interface Placement {
  service: string;
  target: string;
}

export type PlacementResult = { ok: true; placement: Placement[] } | { ok: false; reason: string };

/** Bounds the search: a pathological input fails plainly instead of spinning. */
const MAX_STEPS = 200_000;

export function placeServices(services: readonly StackService[], targets: readonly Target[]): PlacementResult {
  const sortedTargets = [...targets].sort((a, b) => a.name.localeCompare(b.name));
  const candidates = new Map(services.map((s) => [s.name, sortedTargets.filter((t) => s.requires.every((c) => t.capabilities.includes(c)))]));
  for (const service of services) {
    const offered = candidates.get(service.name)?.length ?? 0;
    if (offered < service.replicas) {
      const needs = service.requires.length === 0 ? 'no particular capability' : `capabilities ${service.requires.join(', ')}`;
      return { ok: false, reason: `service "${service.name}" needs ${service.replicas} target(s) with ${needs}; ${offered} offer them` };
    }
  }
  // One slot per replica; the most constrained services are placed first.
  const slots = services
    .flatMap((s) => Array.from({ length: s.replicas }, () => s))
    .sort((a, b) => (candidates.get(a.name)?.length ?? 0) - (candidates.get(b.name)?.length ?? 0) || a.name.localeCompare(b.name));
  const load = new Map<string, number>(sortedTargets.map((t) => [t.name, 0]));
  const hosted = new Set<string>();
  const chosen: Placement[] = [];
  let steps = 0;

  const search = (index: number): boolean => {
    if (index === slots.length) return true;
    if ((steps += 1) > MAX_STEPS) return false;
    const service = slots[index] as StackService;
    const options = (candidates.get(service.name) ?? [])
      .filter((t) => !hosted.has(`${service.name}@${t.name}`) && (t.capacity === undefined || (load.get(t.name) ?? 0) < t.capacity))
      .sort((a, b) => (load.get(a.name) ?? 0) - (load.get(b.name) ?? 0) || a.name.localeCompare(b.name));
    for (const target of options) {
      hosted.add(`${service.name}@${target.name}`);
      load.set(target.name, (load.get(target.name) ?? 0) + 1);
      chosen.push({ service: service.name, target: target.name });
      if (search(index + 1)) return true;
      chosen.pop();
      load.set(target.name, (load.get(target.name) ?? 0) - 1);
      hosted.delete(`${service.name}@${target.name}`);
    }
    return false;
  };

  if (!search(0)) {
    return { ok: false, reason: steps > MAX_STEPS ? 'placement search gave up: too many combinations' : 'no placement satisfies every capability and capacity constraint' };
  }
  return { ok: true, placement: chosen.sort((a, b) => a.service.localeCompare(b.service) || a.target.localeCompare(b.target)) };
}

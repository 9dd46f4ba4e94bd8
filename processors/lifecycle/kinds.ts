import { ConfigError } from '../../core/errors.js';
import { isSchema, type KindDefinition } from './kinds/define-kind.js';
import { documentKind } from './kinds/document.js';
import { probeKind } from './kinds/probe.js';
import { queryKind } from './kinds/query.js';
import { snapshotKind } from './kinds/snapshot.js';
import { stackKind } from './kinds/stack.js';

export { defineKind, payloadSchemaFor, KIND_DEFAULT_FIELDS } from './kinds/define-kind.js';
export type { KindDefaults, KindDefinition, NamedKind, RollbackMode } from './kinds/define-kind.js';

/** What a kind (and a worker pool) may be called: it names topics' consumer groups and registry keys. */
export const KIND_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Kind name → definition. Read-only: the decider must behave the same on every replica. */
export type KindRegistry = ReadonlyMap<string, KindDefinition>;

/** The kinds every broker knows. Adding a kind is one line here (plus its file in kinds/). */
export const builtInKinds: Readonly<Record<string, KindDefinition>> = Object.freeze({
  document: documentKind,
  probe: probeKind,
  query: queryKind,
  snapshot: snapshotKind,
  stack: stackKind,
});

/**
 * Builds a registry, refusing definitions that could never accept a task: no actions,
 * a repeated action, or a per-action payload map that misses or adds an action.
 */
export function createKindRegistry(definitions: Readonly<Record<string, KindDefinition>> = builtInKinds): KindRegistry {
  const registry = new Map<string, KindDefinition>();
  for (const [kind, definition] of Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b))) {
    const problem = checkDefinition(kind, definition);
    if (problem !== null) throw new ConfigError(problem, { kind });
    registry.set(kind, definition);
  }
  return registry;
}

function checkDefinition(kind: string, definition: KindDefinition): string | null {
  if (!KIND_NAME_PATTERN.test(kind)) return `kind name "${kind.slice(0, 80)}" must be 1 to 63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit`;
  if (definition.name !== undefined && definition.name !== kind) return `kind "${kind}" is registered under another name ("${definition.name}")`;
  const { actions, payload } = definition;
  if (actions.length === 0) return `kind "${kind}" lists no actions`;
  if (new Set(actions).size !== actions.length) return `kind "${kind}" lists an action twice`;
  if (isSchema(payload)) return null;
  const missing = actions.filter((action) => !Object.hasOwn(payload, action));
  if (missing.length > 0) return `kind "${kind}" has no payload schema for ${missing.join(', ')}`;
  const extra = Object.keys(payload).filter((action) => !actions.includes(action));
  if (extra.length > 0) return `kind "${kind}" has payload schemas for unlisted actions ${extra.join(', ')}`;
  return null;
}

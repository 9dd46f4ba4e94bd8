import type { output, ZodType } from 'zod';

/** What a kind may set in place of the deployment's defaults; a submission still overrides it. */
export interface KindDefaults {
  readonly timeoutMs?: number;
  readonly attemptTimeoutMs?: number | null;
  readonly heartbeatTimeoutMs?: number | null;
  readonly maxAttempts?: number;
  readonly rollbackMaxAttempts?: number;
}

export const KIND_DEFAULT_FIELDS = ['timeoutMs', 'attemptTimeoutMs', 'heartbeatTimeoutMs', 'maxAttempts', 'rollbackMaxAttempts'] as const;

/**
 * How a failed task of the kind is made consistent. `compensate`: its worker runs an undo.
 * `none`: the kind changes nothing worth undoing; its worker answers rollbacks at once.
 */
export type RollbackMode = 'compensate' | 'none';

/** What the broker knows of a kind: its actions and the shape of each action's payload. */
export interface KindDefinition {
  /** Lower case, digits, `.`, `_` and `-`; the registry's key. */
  readonly name?: string;
  /** Bumped by its author when the kind changes; carried in the registry for people and tools. */
  readonly version?: number;
  readonly description?: string;
  readonly actions: readonly string[];
  /** One schema for every action, or one per action. */
  readonly payload: ZodType | Readonly<Record<string, ZodType>>;
  readonly rollback?: RollbackMode;
  readonly defaults?: KindDefaults;
}

/**
 * A kind with its name: what `defineKind` returns and what workers register. `P` is the
 * parsed payload its handlers receive (types only: nothing is stored under `payloadType`).
 */
export interface NamedKind<P = unknown> extends KindDefinition {
  readonly name: string;
  readonly payloadType?: P;
}

/** The payload a handler gets: the schema's output, or the union of the actions'. */
export type PayloadOf<S> = S extends ZodType ? output<S> : S extends Readonly<Record<string, ZodType>> ? output<S[keyof S]> : unknown;

/**
 * Typed constructor for a kind: with a per-action payload map, the compiler demands a
 * schema for every listed action and nothing else.
 */
export function defineKind<const A extends readonly string[], const S extends ZodType | { readonly [K in A[number]]: ZodType }>(definition: {
  name: string;
  version?: number;
  description?: string;
  actions: A;
  payload: S;
  rollback?: RollbackMode;
  defaults?: KindDefaults;
}): NamedKind<PayloadOf<S>> {
  return definition;
}

export function isSchema(payload: KindDefinition['payload']): payload is ZodType {
  // Duck-typed rather than instanceof: two copies of zod in node_modules must not break it.
  return typeof (payload as { safeParse?: unknown }).safeParse === 'function';
}

/** The payload schema of one action, or undefined when the kind has no such action. */
export function payloadSchemaFor(definition: KindDefinition, action: string): ZodType | undefined {
  if (!definition.actions.includes(action)) return undefined;
  const payload = definition.payload;
  return isSchema(payload) ? payload : payload[action];
}

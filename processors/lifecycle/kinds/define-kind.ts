import type { ZodType } from 'zod';

/** What the broker knows of a kind: its actions and the shape of each action's payload. */
export interface KindDefinition {
  readonly actions: readonly string[];
  /** One schema for every action, or one per action. */
  readonly payload: ZodType | Readonly<Record<string, ZodType>>;
}

/**
 * Typed constructor for a kind: with a per-action payload map, the compiler demands a
 * schema for every listed action and nothing else.
 */
export function defineKind<const A extends readonly string[]>(definition: {
  actions: A;
  payload: ZodType | { readonly [K in A[number]]: ZodType };
}): KindDefinition {
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

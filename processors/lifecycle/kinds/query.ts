import { z } from 'zod';
import { defineKind } from './define-kind.js';

/**
 * `query`: a read-only query over the datastore's documents (the seed's "complex
 * queries"). Documents of one category (and type), filtered on fields of their bodies,
 * ordered, at most `limit` of them; the rows are the task's output. Nothing is written,
 * so there is nothing to roll back. Field paths are names, never SQL: the worker passes
 * paths and values as parameters.
 */
const segment = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a category or type is lower-case letters, digits, "_" and "-"').max(100);

/** A path into a document's body: up to 8 names joined by dots (`spec.replicas`). */
export const bodyPathSchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,7}$/, 'a field is up to 8 names of letters, digits, "_" or "-", joined by dots');

const scalar = z.union([z.string().max(1_000), z.number(), z.boolean(), z.null()]);

export const queryConditionSchema = z.discriminatedUnion('op', [
  z.strictObject({ field: bodyPathSchema, op: z.enum(['eq', 'ne']), value: z.json() }),
  z.strictObject({ field: bodyPathSchema, op: z.enum(['lt', 'lte', 'gt', 'gte']), value: z.union([z.string().max(1_000), z.number()]) }),
  z.strictObject({ field: bodyPathSchema, op: z.literal('in'), value: z.array(scalar).min(1).max(100) }),
  z.strictObject({ field: bodyPathSchema, op: z.literal('contains'), value: z.json() }),
  z.strictObject({ field: bodyPathSchema, op: z.literal('exists') }),
]);

/** Columns every document has, beside paths into its body. */
export const QUERY_COLUMNS = ['key', 'version', 'updatedAt'] as const;

export const queryOrderSchema = z.strictObject({
  by: z.union([z.enum(QUERY_COLUMNS), bodyPathSchema]),
  direction: z.enum(['asc', 'desc']).default('asc'),
});

export const MAX_QUERY_LIMIT = 1_000;

export const queryPayloadSchema = z.strictObject({
  category: segment,
  type: segment.optional(),
  where: z.array(queryConditionSchema).max(20).default([]),
  orderBy: z.array(queryOrderSchema).max(3).default([{ by: 'key', direction: 'asc' }]),
  limit: z.number().int().min(1).max(MAX_QUERY_LIMIT).default(100),
  /** Body fields to return; all of the body when absent. */
  fields: z.array(bodyPathSchema).min(1).max(20).optional(),
});

export type QueryPayload = z.infer<typeof queryPayloadSchema>;
export type QueryCondition = z.infer<typeof queryConditionSchema>;

export const queryKind = defineKind({
  name: 'query',
  description: 'read documents from the datastore',
  actions: ['run'],
  payload: { run: queryPayloadSchema },
});

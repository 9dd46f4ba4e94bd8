import { z } from 'zod';
import { defineKind } from './define-kind.js';

/**
 * `document`: create, update or delete documents in the datastore, keyed
 * `<category>/<type>/<name>`. Several documents per task are applied in order; the
 * rollback of a failed task puts every key back as it was before the task touched it.
 */
export const documentKeySchema = z
  .string()
  .max(512)
  .regex(/^[a-z0-9][a-z0-9_-]*\/[a-z0-9][a-z0-9_-]*\/[a-z0-9][a-z0-9._-]*$/, 'a document key is <category>/<type>/<name> in lower case');

/** A document's body: any JSON object. */
export const documentBodySchema = z.record(z.string(), z.json());

export const documentWritePayloadSchema = z.strictObject({
  documents: z.array(z.strictObject({ key: documentKeySchema, body: documentBodySchema })).min(1).max(50),
});

export const documentDeletePayloadSchema = z.strictObject({
  keys: z.array(documentKeySchema).min(1).max(50),
});

export type DocumentWritePayload = z.infer<typeof documentWritePayloadSchema>;
export type DocumentDeletePayload = z.infer<typeof documentDeletePayloadSchema>;

export const documentKind = defineKind({
  name: 'document',
  description: 'create, update or delete documents in the datastore; rolled back to what they were',
  actions: ['create', 'update', 'delete'],
  payload: { create: documentWritePayloadSchema, update: documentWritePayloadSchema, delete: documentDeletePayloadSchema },
});

import { z } from 'zod';
import { defineKind } from './define-kind.js';

/**
 * `snapshot`: `create` records every document under a key prefix as a named snapshot
 * (itself a document, `snapshot/documents/<name>`); `restore` puts those documents back
 * as they were and deletes the ones created under the prefix since. Both are ordinary
 * fenced datastore writes, so a failed task's rollback undoes them like any other.
 */
const snapshotNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a snapshot name is lower-case letters, digits, . _ -');

export const snapshotCreatePayloadSchema = z.strictObject({
  name: snapshotNameSchema,
  /** `<category>/` or `<category>/<type>/`; snapshots of snapshots are refused. */
  prefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*\/([a-z0-9][a-z0-9_-]*\/)?$/, 'a prefix is <category>/ or <category>/<type>/')
    .refine((prefix) => !prefix.startsWith('snapshot/'), 'snapshots are not taken of snapshots'),
});

export const snapshotRestorePayloadSchema = z.strictObject({ name: snapshotNameSchema });

export const snapshotKind = defineKind({
  name: 'snapshot',
  description: 'save or restore a set of documents',
  actions: ['create', 'restore'],
  payload: { create: snapshotCreatePayloadSchema, restore: snapshotRestorePayloadSchema },
});

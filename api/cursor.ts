// The opaque page cursor of GET /tasks: the (created_at, id) of the last row served,
// so the next page is a keyset seek on the (…, created_at, id) indexes, stable while
// rows are inserted. Base64url JSON: opaque to clients, trivial for us to validate.
import { StacklError } from '../core/errors.js';
import { isTaskId } from '../processors/broker/ids.js';

export interface CursorKey {
  /** created_at in UTC with microseconds, exactly as PostgreSQL stores it. */
  createdAt: string;
  id: string;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  const invalid = () => new StacklError('INVALID_CURSOR', 'cursor is not one this API returned; start again without it', { httpStatus: 400 });
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [createdAt, id] = value as unknown[];
  if (typeof createdAt !== 'string' || !TIMESTAMP.test(createdAt) || Number.isNaN(Date.parse(createdAt))) throw invalid();
  if (typeof id !== 'string' || !isTaskId(id)) throw invalid();
  return { createdAt, id };
}

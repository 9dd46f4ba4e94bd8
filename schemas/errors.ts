// The two ways a message can fail to cross the wire. A DecodeError is about the bytes of one
// record and retrying cannot help, so a consumer dead-letters the record (details go in the
// DLQ headers) instead of blocking its partition. An EncodeError is our own bug: a message
// that does not fit its schema.
import { StacklError } from '../core/errors.js';

export type DecodeErrorCode =
  | 'DECODE_EMPTY'
  | 'DECODE_UNKNOWN_FORMAT'
  | 'DECODE_UNKNOWN_SCHEMA'
  | 'DECODE_TRUNCATED'
  | 'DECODE_INVALID';

export const DECODE_ERROR_CODES: readonly DecodeErrorCode[] = [
  'DECODE_EMPTY',
  'DECODE_UNKNOWN_FORMAT',
  'DECODE_UNKNOWN_SCHEMA',
  'DECODE_TRUNCATED',
  'DECODE_INVALID',
];

/** What a dead-letter header needs to say about the record. */
export type DecodeErrorDetails = {
  /** Framing found in the first bytes. */
  format: 'single-object' | 'confluent' | 'unknown';
  byteLength: number;
  /** Single-object encoding: the 8 fingerprint bytes in hex, as they appear in the record. */
  fingerprint?: string;
  /** Confluent framing: the schema registry id. */
  schemaId?: number;
  /** Full name of the writer's envelope schema, once known. */
  schema?: string;
  [key: string]: unknown;
};

export class DecodeError extends StacklError {
  declare readonly code: DecodeErrorCode;
  declare readonly details: DecodeErrorDetails;

  constructor(code: DecodeErrorCode, message: string, details: DecodeErrorDetails, cause?: unknown) {
    super(code, message, { httpStatus: 400, retriable: false, details, cause });
  }
}

export class EncodeError extends StacklError {
  declare readonly code: 'ENCODE_INVALID';
  /** Dotted paths of the offending fields, e.g. `body.task.timeoutMs` ('' = the message itself). */
  readonly paths: readonly string[];

  constructor(schema: string, paths: readonly string[], message: string, cause?: unknown) {
    super('ENCODE_INVALID', `${schema}: ${message}`, { httpStatus: 500, retriable: false, details: { schema, paths }, cause });
    this.paths = paths;
  }
}

// Shared assertion for the malformed-input tests: the only acceptable failure is a
// non-retriable DecodeError with one of the documented codes.
import { expect } from 'vitest';
import { StacklError } from '../../../core/errors.js';
import { DECODE_ERROR_CODES, DecodeError } from '../../../schemas/index.js';
import type { DecodeErrorCode } from '../../../schemas/index.js';

export function expectDecodeError(error: unknown, code?: DecodeErrorCode): DecodeError {
  expect(error).toBeInstanceOf(DecodeError);
  const decodeError = error as DecodeError;
  expect(decodeError).toBeInstanceOf(StacklError);
  expect(DECODE_ERROR_CODES).toContain(decodeError.code);
  if (code !== undefined) expect(decodeError.code).toBe(code);
  expect(decodeError.retriable).toBe(false);
  return decodeError;
}

/** Runs `fn` and returns what it threw or rejected with (undefined if it succeeded). */
export async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

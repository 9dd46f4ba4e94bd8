// The errors of the message channel's primitives, each with its own stable code so a
// caller can tell a bad name from a bad value from a value that is merely too big.
import { StacklError } from '../core/errors.js';

export type ChannelNameKind = 'key' | 'queue' | 'topic';

export class ChannelNameError extends StacklError {
  constructor(kind: ChannelNameKind, name: unknown, rule: string) {
    super('CHANNEL_NAME_INVALID', `${kind} ${show(name)} is not a valid name: ${rule}`, { httpStatus: 400, details: { kind, rule } });
  }
}

/** A value JSON cannot carry unchanged (undefined, functions, NaN, class instances, cycles…). */
export class ChannelValueError extends StacklError {
  constructor(path: string, problem: string) {
    super('CHANNEL_VALUE_INVALID', `${path} ${problem}: message channel values must be plain JSON`, { httpStatus: 400, details: { path } });
  }
}

export class ChannelValueTooLargeError extends StacklError {
  constructor(bytes: number, maxBytes: number) {
    super('CHANNEL_VALUE_TOO_LARGE', `the value is ${bytes} bytes as JSON; the message channel carries at most ${maxBytes}`, {
      httpStatus: 413,
      details: { bytes, maxBytes },
    });
  }
}

/** A TTL or a wait that is not a whole number of milliseconds in range. */
export class ChannelArgumentError extends StacklError {
  constructor(argument: string, value: unknown, rule: string) {
    super('CHANNEL_ARGUMENT_INVALID', `${argument} ${show(value)} is invalid: ${rule}`, { httpStatus: 400, details: { argument } });
  }
}

export class ChannelClosedError extends StacklError {
  constructor(channel: string) {
    super('CHANNEL_CLOSED', `the ${channel} message channel is closed`, { httpStatus: 503 });
  }
}

/** What came back from the channel is not JSON: someone else wrote to our keys or topics. */
export class ChannelValueUnreadableError extends StacklError {
  constructor(where: string, cause: unknown) {
    super('CHANNEL_VALUE_UNREADABLE', `a value read from ${where} is not JSON`, { cause, details: { where } });
  }
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value) : `(a ${typeof value})`;
}

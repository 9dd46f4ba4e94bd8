// Argument checks shared by every message channel, so `kafka` and `redis` refuse the
// same things with the same errors. Values are checked strictly rather than trusted to
// JSON.stringify, which would quietly turn NaN into null, drop undefined properties and
// flatten a Date to a string: a value must come out of the channel equal to what went in.
import {
  ChannelArgumentError,
  ChannelNameError,
  ChannelValueError,
  ChannelValueTooLargeError,
  ChannelValueUnreadableError,
  type ChannelNameKind,
} from './message-channel-errors.js';
import { MAX_KEY_LENGTH, MAX_NAME_LENGTH, MAX_NESTING, MAX_VALUE_BYTES, type JsonValue } from './message-channel.js';

// No "_": Kafka treats "." and "_" alike in metric names and refuses a topic that
// differs from an existing one only by them, so two queue names could not coexist.
const NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9.-]{0,${MAX_NAME_LENGTH - 1}}$`);
// eslint-disable-next-line no-control-regex -- control characters are exactly what keys may not hold
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Queue and pub/sub topic names: they become Kafka topic names and Redis key suffixes. */
export function checkName(kind: Exclude<ChannelNameKind, 'key'>, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ChannelNameError(kind, name, `1 to ${MAX_NAME_LENGTH} letters, digits, "." or "-", starting with a letter or digit`);
  }
  return name;
}

/** Storage keys are only record keys, so they may be freer, but not empty or unprintable. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || CONTROL.test(key)) {
    throw new ChannelNameError('key', key, `1 to ${MAX_KEY_LENGTH} characters, none of them control characters`);
  }
  return key;
}

export function checkMillis(argument: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ChannelArgumentError(argument, value, `a whole number of milliseconds from 1 to ${max}`);
  }
  return value;
}

/** The value as the JSON text the channel carries, after proving it is plain JSON and small enough. */
export function encodeValue(value: unknown): string {
  checkJson(value, 'the value', 0, new Set());
  const text = JSON.stringify(value);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_VALUE_BYTES) throw new ChannelValueTooLargeError(bytes, MAX_VALUE_BYTES);
  return text;
}

export function decodeValue(text: string, where: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new ChannelValueUnreadableError(where, error);
  }
}

function checkJson(value: unknown, path: string, depth: number, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new ChannelValueError(path, `is ${value}, which JSON cannot hold`);
      return;
    case 'object': {
      if (value === null) return;
      if (depth >= MAX_NESTING) throw new ChannelValueError(path, `nests deeper than ${MAX_NESTING} levels`);
      if (ancestors.has(value)) throw new ChannelValueError(path, 'refers back to itself');
      ancestors.add(value);
      if (Array.isArray(value)) {
        // Indexed, not iterated: a hole in a sparse array would come back as null.
        for (let i = 0; i < value.length; i += 1) checkJson(value[i], `${path}[${i}]`, depth + 1, ancestors);
      } else {
        const proto = Object.getPrototypeOf(value) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          throw new ChannelValueError(path, `is a ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'class instance'}, not a plain object`);
        }
        for (const [key, child] of Object.entries(value)) checkJson(child, `${path}.${key}`, depth + 1, ancestors);
      }
      // Shared (not circular) sub-values are fine: only the current path counts.
      ancestors.delete(value);
      return;
    }
    default:
      throw new ChannelValueError(path, `is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}`);
  }
}

import { StacklError } from '../../core/errors.js';

/**
 * The `default` branch of every switch over a union. The compiler proves it unreachable;
 * at run time it still fails loudly, because a value outside the union means a record
 * from a newer schema reached an older decider.
 */
export function assertNever(value: never, what: string): never {
  throw new StacklError('LIFECYCLE_UNREACHABLE', `unexpected ${what}: ${JSON.stringify(value)}`);
}

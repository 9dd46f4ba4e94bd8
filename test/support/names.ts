import { randomBytes } from 'node:crypto';

/** A short random token; test files use it so topics, groups and schemas never collide across runs. */
export function token(): string {
  return randomBytes(5).toString('hex');
}

/** A topic prefix of its own for one test file or case. */
export function uniquePrefix(label: string): string {
  return `test.${label}.${token()}.`;
}

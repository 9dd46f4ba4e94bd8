// Secrets (a SASL password, a TLS private key) travel inside the configuration, and a
// configuration object is exactly what someone prints while debugging. A Secret prints
// as a mask everywhere (JSON, util.inspect, template strings); only `reveal()`, called
// where the secret is handed to the library that needs it, gives the value.
import { inspect } from 'node:util';

const MASK = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return MASK;
  }

  toString(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

/**
 * A URL fit for an error message: the password of its user part replaced by `***`.
 * It works on text that is not a valid URL too (that is when we print it), and masks
 * too much rather than too little: everything up to the last `@` is user part, and a
 * user part without a colon may be a bare token (redis://secret@host), so it goes whole.
 */
export function maskUrl(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  const userPart = text.slice(scheme.length, at);
  const colon = userPart.indexOf(':');
  const user = colon < 0 ? '***' : `${userPart.slice(0, colon)}:***`;
  return `${scheme}${user}${text.slice(at)}`;
}

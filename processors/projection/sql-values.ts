// Values at the PostgreSQL edge. An event is a fact already in the log: whatever odd
// value it carries, writing it must not fail, or the partition would stop for good.
// So out-of-range times are clamped, NUL characters (PostgreSQL text cannot hold them)
// are replaced, and text that should be JSON but is not is kept as a JSON string.

/** 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the years toISOString prints as PostgreSQL reads them. */
const MIN_MS = -62_135_596_800_000;
const MAX_MS = 253_402_300_799_999;

/** Epoch milliseconds as an ISO string PostgreSQL reads exactly (millisecond precision). */
export function timestampValue(ms: number | null): string | null {
  if (ms === null) return null;
  const clamped = Number.isFinite(ms) ? Math.min(MAX_MS, Math.max(MIN_MS, Math.trunc(ms))) : ms > 0 ? MAX_MS : MIN_MS;
  return new Date(clamped).toISOString();
}

/** PostgreSQL text cannot hold NUL: it becomes U+FFFD. */
export function textValue(text: string | null): string | null {
  if (text === null || !text.includes('\0')) return text;
  return text.replaceAll('\0', '\uFFFD');
}

// `\u0000` preceded by an even number of backslashes is an escaped NUL, which jsonb refuses.
const ESCAPED_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * JSON text for a jsonb column: an object is serialized; text that claims to be JSON
 * (payload, output) is checked and, when it is not JSON, kept as a JSON string. Text
 * passes through untouched otherwise, so big numbers keep every digit.
 */
export function jsonText(value: unknown): string {
  let json: string;
  if (typeof value !== 'string') {
    json = JSON.stringify(value);
  } else {
    json = value;
    try {
      JSON.parse(value);
    } catch {
      json = JSON.stringify(value);
    }
  }
  if (SURROGATE_ESCAPE.test(json)) json = JSON.stringify(wellFormed(JSON.parse(json)));
  return json.includes('\\u0000') ? json.replace(ESCAPED_NUL, '$1\\uFFFD') : json;
}

// jsonb refuses a lone surrogate escape (`"\ud800"`), which JSON.parse accepts and a client
// can send through the API. Rare, so the fix may re-serialize the whole value.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [wellFormed(k) as string, wellFormed(v)]));
  }
  return value;
}

/** A PostgreSQL array literal: numbers bare, text double-quoted with `"` and `\` escaped. */
export function arrayLiteral(values: readonly (string | number | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? null;
    if (v === null) parts[i] = 'NULL';
    else if (typeof v === 'number') parts[i] = String(v);
    else parts[i] = v.includes('"') || v.includes('\\') ? `"${v.replace(/["\\]/g, '\\$&')}"` : `"${v}"`;
  }
  return `{${parts.join(',')}}`;
}

/**
 * JSON texts as one JSON array, each wrapped as {"v": …} so that SQL NULL (no value)
 * and JSON null stay apart: SQL reads element -> 'v', which is NULL for a bare null.
 */
export function jsonArray(texts: readonly (string | null)[]): string {
  return `[${texts.map((t) => (t === null ? 'null' : `{"v":${t}}`)).join(',')}]`;
}

/** A number PostgreSQL returned as float8 or text (bigint), as a JavaScript number. */
export function numberFromDb(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function nullableNumberFromDb(value: unknown): number | null {
  return value === null || value === undefined ? null : numberFromDb(value);
}

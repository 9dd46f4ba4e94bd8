// Payloads and outputs travel as JSON text and end in PostgreSQL's jsonb. A text that
// JSON.parse accepts may still be refused there (the \u0000 escape, an unpaired surrogate,
// a number beyond numeric's range, nesting deep enough to exhaust its stack), and a
// projector that cannot store an event stops its partition for good. So every JSON text
// entering the system is checked here, once, with a clear answer, before anything is kept.

/** Deepest nesting of arrays and objects a payload or output may have. */
export const MAX_JSON_DEPTH = 64;

export type JsonTextProblem = { code: 'TOO_LARGE'; message: string } | { code: 'INVALID'; message: string };

export type JsonTextCheck = { ok: true; value: unknown; bytes: number } | { ok: false; problem: JsonTextProblem };

/** Parses `text` when it is JSON that every STACKL store accepts and at most `maxBytes` of UTF-8. */
export function checkJsonText(text: string, maxBytes: number): JsonTextCheck {
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) return { ok: false, problem: { code: 'TOO_LARGE', message: `is ${bytes} bytes of JSON, more than the ${maxBytes} allowed` } };
  const scanned = scanProblem(text);
  if (scanned !== null) return { ok: false, problem: { code: 'INVALID', message: scanned } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: { code: 'INVALID', message: `is not JSON: ${(error as Error).message}` } };
  }
  return { ok: true, value, bytes };
}

/** Same checks for a value a client handed over already parsed (the REST API). */
export function checkJsonValue(value: unknown, maxBytes: number): JsonTextCheck & { text?: string } {
  const shape = shapeOf(value);
  if (shape.depth > MAX_JSON_DEPTH) {
    return { ok: false, problem: { code: 'INVALID', message: `is nested ${shape.depth > 10_000 ? 'more than 10000' : shape.depth} levels deep, more than the ${MAX_JSON_DEPTH} allowed` } };
  }
  // JSON.stringify would write such a number as null: refuse it rather than change it.
  if (shape.nonFinite) return { ok: false, problem: { code: 'INVALID', message: 'holds a number beyond the range of a double' } };
  // Depth is bounded now, so stringify cannot exhaust the stack.
  const text = JSON.stringify(value ?? null);
  const checked = checkJsonText(text, maxBytes);
  return checked.ok ? { ...checked, text } : checked;
}

/** Nesting depth of a parsed value (counting stops past 10,000) and whether it holds ±Infinity, walked without recursion. */
function shapeOf(root: unknown): { depth: number; nonFinite: boolean } {
  let deepest = 0;
  let nonFinite = false;
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value === 'number' && !Number.isFinite(value)) nonFinite = true;
    if (value === null || typeof value !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > 10_000) break;
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push({ value: child, depth: here });
  }
  return { depth: deepest, nonFinite };
}

/**
 * One pass over the text, outside and inside strings: nesting depth, escapes PostgreSQL
 * refuses, and numbers that do not fit a double. Returns the first problem, or null.
 * Syntax errors are left to JSON.parse, which names them better.
 */
function scanProblem(text: string): string | null {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (typeof end === 'string') return end;
      i = end;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) return `is nested more than the ${MAX_JSON_DEPTH} levels allowed`;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth -= 1;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < text.length && /[0-9eE+.-]/.test(text.charAt(end))) end += 1;
      const problem = numberProblem(text.slice(i, end));
      if (problem !== null) return problem;
      i = end - 1;
    }
  }
  return null;
}

/** Index of the closing quote of the string opening at `start`, or what is wrong inside it. */
function stringEnd(text: string, start: number): number | string {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c >= 0xd800 && c <= 0xdfff) {
      const paired = c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1));
      if (!paired) return `holds an unpaired UTF-16 surrogate at character ${i}`;
      i += 1;
      continue;
    }
    if (c !== 0x5c /* \ */) continue;
    const next = text.charAt(i + 1);
    if (next !== 'u') {
      i += 1;
      continue;
    }
    const unit = parseInt(text.slice(i + 2, i + 6), 16);
    if (unit === 0) return `holds the escape \\u0000 at character ${i}, which PostgreSQL cannot store`;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = text.slice(i + 6, i + 8) === '\\u' ? parseInt(text.slice(i + 8, i + 12), 16) : Number.NaN;
      if (!isLowSurrogate(low)) return `holds an unpaired surrogate escape at character ${i}`;
      i += 11;
      continue;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return `holds an unpaired surrogate escape at character ${i}`;
    i += 5;
  }
  return text.length;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

function numberProblem(literal: string): string | null {
  const value = Number(literal);
  if (Number.isNaN(value)) return null; // not a number token after all: JSON.parse will say
  if (!Number.isFinite(value)) return `holds the number ${literal.slice(0, 40)}, beyond the range of a double`;
  // A literal that rounds to zero without being zero (1e-400) is a different number in
  // PostgreSQL than in JavaScript; refuse it rather than store something else.
  if (value === 0 && /[1-9]/.test(literal.split(/[eE]/)[0] ?? '')) return `holds the number ${literal.slice(0, 40)}, too small for a double`;
  return null;
}

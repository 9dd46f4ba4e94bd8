// Maps between the message shape the rest of STACKL uses ({ ..., type, body } with a plain
// body) and the value avsc reads and writes (body wrapped as { 'stackl.v1.TaskSubmitted': {...} }).
import type { Type, types } from 'avsc';
import { DecodeError, EncodeError } from './errors.js';
import type { DecodeErrorDetails } from './errors.js';
import type { TopicSchema } from './topic-schemas.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function preview(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return typeof value;
  }
}

/** avsc paths name the union branch after `body`; our callers never see that level. */
function dottedPath(path: readonly string[]): string {
  const visible = path[0] === 'body' ? [path[0], ...path.slice(2)] : path;
  return visible.join('.');
}

interface Problem {
  readonly path: string;
  readonly problem: string;
}

function problemsOf(type: Type, value: Json): Problem[] {
  const problems: Problem[] = [];
  // Pass 1: wrong values. Without the undeclared-fields flag avsc descends into every field.
  type.isValid(value, {
    errorHook: (path: string[], found: unknown, at: Type) => {
      const where = dottedPath(path);
      problems.push({ path: where, problem: `${where || '(message)'} = ${preview(found)} is not a valid ${at.name ?? at.typeName}` });
    },
  });
  // Pass 2: undeclared fields. avsc reports them at their record; name each field instead.
  type.isValid(value, {
    noUndeclaredFields: true,
    errorHook: (path: string[], found: unknown, at: Type) => {
      const fields = (at as types.RecordType).fields;
      if (!isObject(found) || !Array.isArray(fields)) return;
      for (const key of Object.keys(found).filter((k) => !fields.some((f) => f.name === k))) {
        const where = dottedPath([...path, key]);
        problems.push({ path: where, problem: `${where} is not a field of ${at.name ?? 'the record'}` });
      }
    },
  });
  return problems;
}

/** The avsc value of a message, or an EncodeError naming every field that does not fit. */
export function toAvroValue(schema: TopicSchema, message: unknown): Json {
  if (!isObject(message)) throw new EncodeError(schema.name, [''], `message must be an object, got ${preview(message)}`);
  const branch = typeof message.type === 'string' ? schema.bodyFullNames.get(message.type) : undefined;
  if (branch === undefined) {
    const allowed = schema.bodyTypes.join(', ');
    throw new EncodeError(schema.name, ['type'], `type ${preview(message.type)} is not a body of ${schema.name} (${allowed})`);
  }
  const value = { ...message, body: { [branch]: message.body } };
  // Fast path first: the hook-driven check is only needed to explain a failure.
  if (schema.type.isValid(value, { noUndeclaredFields: true })) return value;
  const problems = problemsOf(schema.type, value);
  const text = problems.map((p) => p.problem).join('; ');
  throw new EncodeError(schema.name, problems.map((p) => p.path), `invalid ${String(message.type)} message: ${text}`);
}

/** Deep copy into plain objects: avsc decodes records as instances of generated classes. */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(plain);
  const out: Json = {};
  for (const key of Object.keys(value)) out[key] = plain((value as Json)[key]);
  return out;
}

/** The message of a decoded avsc value; checks that `type` names the body's branch. */
export function fromAvroValue(schema: TopicSchema, value: unknown, details: DecodeErrorDetails): Json {
  const wrapped = isObject(value) ? value.body : undefined;
  const branch = isObject(wrapped) ? Object.keys(wrapped)[0] : undefined;
  const bodyType = schema.bodyTypes.find((t) => schema.bodyFullNames.get(t) === branch);
  if (!isObject(value) || !isObject(wrapped) || branch === undefined || bodyType === undefined) {
    throw new DecodeError('DECODE_INVALID', `${schema.name} record has no body`, details);
  }
  if (value.type !== bodyType) {
    throw new DecodeError('DECODE_INVALID', `${schema.name} says type ${String(value.type)} but carries a ${bodyType} body`, details);
  }
  const message = plain(value) as Json;
  message.body = plain(wrapped[branch]);
  return message;
}

// Whether a kind may change under the tasks already written for it. A submission valid
// for the registered kind must stay valid for the new one, so brokers and clients never
// disagree about an accepted payload: only new optional fields, new actions and looser
// defaults go. Anything else is named, field by field, so its author knows what to undo
// (or to register the change as a new kind).
import type { KindRecord } from './kind-record.js';

type Schema = Record<string, unknown>;

/** Keywords that describe rather than constrain: they may change freely. */
const NOTES = new Set(['$schema', '$id', 'title', 'description', 'examples', 'default', 'deprecated', '$comment']);

/** What makes `next` incompatible with `previous`; empty when it may replace it. */
export function compatibilityProblems(previous: KindRecord, next: KindRecord): string[] {
  const problems: string[] = [];
  if (next.pool !== previous.pool) {
    problems.push(`kind "${next.name}" is served by pool "${previous.pool}"; a second pool ("${next.pool}") would run its work twice`);
  }
  for (const action of previous.actions) {
    const before = previous.payloadSchemas[action];
    const after = next.payloadSchemas[action];
    if (!next.actions.includes(action) || after === undefined) problems.push(`action "${action}" was removed`);
    else if (before !== undefined) compareSchemas(before, after, `${action}.payload`, problems);
  }
  if (previous.rollback === 'compensate' && next.rollback === 'none') problems.push('rollback changed from "compensate" to "none": failed tasks would no longer be undone');
  return problems;
}

function compareSchemas(before: Schema, after: Schema, path: string, problems: string[]): void {
  if (sameJson(strip(before), strip(after))) return;
  const beforeProps = objectProperties(before);
  const afterProps = objectProperties(after);
  if (beforeProps === null || afterProps === null) {
    problems.push(`field ${path} changed its shape (from ${brief(strip(before))} to ${brief(strip(after))})`);
    return;
  }
  const requiredBefore = new Set(requiredOf(before));
  const requiredAfter = new Set(requiredOf(after));
  for (const [field, schema] of Object.entries(beforeProps)) {
    const next = afterProps[field];
    if (next === undefined) problems.push(`field ${path}.${field} was removed`);
    else compareSchemas(schema, next, `${path}.${field}`, problems);
    if (!requiredBefore.has(field) && requiredAfter.has(field)) problems.push(`field ${path}.${field} became required`);
  }
  for (const field of Object.keys(afterProps)) {
    if (!Object.hasOwn(beforeProps, field) && requiredAfter.has(field)) problems.push(`new field ${path}.${field} is required (a new field must be optional)`);
  }
  const rest = (schema: Schema): Schema => Object.fromEntries(Object.entries(strip(schema)).filter(([key]) => key !== 'properties' && key !== 'required'));
  if (!sameJson(rest(before), rest(after))) problems.push(`the constraints of ${path} changed (from ${brief(rest(before))} to ${brief(rest(after))})`);
}

function objectProperties(schema: Schema): Record<string, Schema> | null {
  if (schema.type !== 'object') return null;
  const properties = schema.properties;
  return typeof properties === 'object' && properties !== null ? (properties as Record<string, Schema>) : {};
}

function requiredOf(schema: Schema): string[] {
  return Array.isArray(schema.required) ? schema.required.filter((f): f is string => typeof f === 'string') : [];
}

function strip(schema: Schema): Schema {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !NOTES.has(key)));
}

/** Deep equality of JSON values, whatever the order of object keys. */
function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function brief(schema: Schema): string {
  const text = canonical(schema);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

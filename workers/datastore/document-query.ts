// A `query` task's SQL. Everything the task names (category, type, field paths, values,
// limit) becomes a parameter: field paths go in as text[] for jsonb's `#>`, values as
// jsonb, so no part of a payload is ever spliced into the statement. Only the operators,
// directions and column names come from fixed lists here.
import type { QueryCondition, QueryPayload } from '../../processors/lifecycle/kinds/query.js';

export interface QuerySql {
  text: string;
  values: unknown[];
}

const COLUMN_SQL: Record<string, string> = { key: 'key', version: 'version', updatedAt: 'updated_at' };

export function querySql(documentsTable: string, query: QueryPayload): QuerySql {
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const path = (field: string): string => `(body #> ${param(field.split('.'))}::text[])`;
  const json = (value: unknown): string => `${param(JSON.stringify(value))}::jsonb`;

  const condition = (c: QueryCondition): string => {
    const at = path(c.field);
    switch (c.op) {
      case 'eq':
        return `${at} = ${json(c.value)}`;
      case 'ne':
        // A document without the field is not equal to anything.
        return `${at} is distinct from ${json(c.value)}`;
      case 'lt':
      case 'lte':
      case 'gt':
      case 'gte': {
        const sign = { lt: '<', lte: '<=', gt: '>', gte: '>=' }[c.op];
        // jsonb orders across types (any string after any number); compare like with like only.
        return `(jsonb_typeof(${at}) = ${param(typeof c.value === 'number' ? 'number' : 'string')} and ${at} ${sign} ${json(c.value)})`;
      }
      case 'in':
        return `${at} = any(array(select jsonb_array_elements(${json(c.value)})))`;
      case 'contains':
        return `${at} @> ${json(c.value)}`;
      case 'exists':
        return `${at} is not null`;
    }
  };

  const prefix = query.type === undefined ? `${query.category}/` : `${query.category}/${query.type}/`;
  const where = [`starts_with(key, ${param(prefix)})`, ...query.where.map(condition)];
  const order = query.orderBy.map((o) => `${COLUMN_SQL[o.by] ?? path(o.by)} ${o.direction === 'desc' ? 'desc nulls last' : 'asc nulls last'}`);
  // Ties in the asked order come out in key order, so a page is the same on every run.
  if (!query.orderBy.some((o) => o.by === 'key')) order.push('key asc');
  // One row more than asked tells whether there is more.
  const text = `select key, version, updated_at, body from ${documentsTable} where ${where.join(' and ')} order by ${order.join(', ')} limit ${param(query.limit + 1)}`;
  return { text, values };
}

/** The value at a dotted path of a body; undefined when any step is missing. */
export function valueAt(body: unknown, field: string): unknown {
  let at: unknown = body;
  for (const name of field.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, name)) return undefined;
    at = (at as Record<string, unknown>)[name];
  }
  return at;
}

import { describe, expect, it } from 'vitest';
import { queryPayloadSchema } from '../../../processors/lifecycle/kinds/query.js';
import { querySql, valueAt } from '../../../workers/datastore/document-query.js';

const parse = (payload: object) => queryPayloadSchema.parse(payload);

describe('query SQL', () => {
  it('puts every name and value the task gives into parameters, none into the statement', () => {
    const hostile = "x') or true; drop table documents; --";
    const { text, values } = querySql('"s"."documents"', parse({ category: 'infra', type: 'service', where: [{ field: 'team', op: 'eq', value: hostile }, { field: 'a.b', op: 'in', value: [hostile, 1] }], orderBy: [{ by: 'spec.port', direction: 'desc' }], limit: 5 }));
    expect(text).not.toContain(hostile);
    expect(text).not.toContain('infra');
    expect(text).not.toContain('team');
    expect(values).toEqual(['infra/service/', ['team'], JSON.stringify(hostile), ['a', 'b'], JSON.stringify([hostile, 1]), ['spec', 'port'], 6]);
    expect(text).toMatch(/order by \(body #> \$6::text\[\]\) desc nulls last, key asc limit \$7$/);
  });

  it('compares like with like for ordering operators, and treats a missing field as not equal', () => {
    const { text, values } = querySql('d', parse({ category: 'c', where: [{ field: 'n', op: 'lte', value: 3 }, { field: 's', op: 'ne', value: 'x' }] }));
    expect(text).toContain("(jsonb_typeof((body #> $2::text[])) = $3 and (body #> $2::text[]) <= $4::jsonb)");
    expect(text).toContain('is distinct from');
    expect(values.slice(2, 4)).toEqual(['number', '3']);
  });

  it('orders by key by default and does not repeat it as the tie-breaker', () => {
    expect(querySql('d', parse({ category: 'c' })).text).toMatch(/order by key asc nulls last limit \$2$/);
    expect(querySql('d', parse({ category: 'c', orderBy: [{ by: 'updatedAt', direction: 'desc' }] })).text).toMatch(/order by updated_at desc nulls last, key asc limit/);
  });
});

describe('query payloads', () => {
  it.each([
    ['a field that is not a dotted name', { category: 'c', where: [{ field: 'a;b', op: 'exists' }] }],
    ['a field nine names deep', { category: 'c', where: [{ field: 'a.b.c.d.e.f.g.h.i', op: 'exists' }] }],
    ['a category with a slash', { category: 'a/b' }],
    ['an unknown operator', { category: 'c', where: [{ field: 'a', op: 'like', value: '%' }] }],
    ['an ordering operator on an object', { category: 'c', where: [{ field: 'a', op: 'gt', value: { x: 1 } }] }],
    ['a limit over 1,000', { category: 'c', limit: 1001 }],
    ['more than 20 conditions', { category: 'c', where: Array.from({ length: 21 }, () => ({ field: 'a', op: 'exists' })) }],
    ['an unknown key', { category: 'c', sql: 'select 1' }],
  ])('refuse %s', (_what, payload) => {
    expect(queryPayloadSchema.safeParse(payload).success).toBe(false);
  });
});

describe('valueAt', () => {
  it('follows a dotted path through objects only', () => {
    const body = { a: { b: { c: 1 } }, list: [{ x: 1 }] };
    expect(valueAt(body, 'a.b.c')).toBe(1);
    expect(valueAt(body, 'a.b')).toEqual({ c: 1 });
    expect(valueAt(body, 'a.x')).toBeUndefined();
    expect(valueAt(body, 'list.0')).toBeUndefined();
    expect(valueAt(body, 'toString')).toBeUndefined();
  });
});

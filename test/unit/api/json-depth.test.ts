import { describe, expect, it } from 'vitest';
import { nestingDepth } from '../../../api/json-depth.js';

describe('nestingDepth', () => {
  it('counts arrays and objects, not scalars', () => {
    expect(nestingDepth('text', 64)).toBe(0);
    expect(nestingDepth(null, 64)).toBe(0);
    expect(nestingDepth({}, 64)).toBe(1);
    expect(nestingDepth({ a: [1, { b: [] }] }, 64)).toBe(4);
    expect(nestingDepth([[1], [[2]], 3], 64)).toBe(3);
  });

  it('stops past the limit on a value 20,000 levels deep, without recursion', () => {
    const deep = JSON.parse(`${'['.repeat(20_000)}${']'.repeat(20_000)}`) as unknown;
    expect(nestingDepth(deep, 64)).toBe(65);
    expect(nestingDepth({ a: deep }, 100_000)).toBe(20_001);
  });
});

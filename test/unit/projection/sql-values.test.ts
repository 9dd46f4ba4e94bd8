import { describe, expect, it } from 'vitest';
import { arrayLiteral, jsonArray, jsonText, textValue, timestampValue } from '../../../processors/projection/sql-values.js';

describe('values at the PostgreSQL edge', () => {
  it('prints times exactly, and clamps those PostgreSQL or toISOString cannot read', () => {
    expect(timestampValue(1_750_000_000_123)).toBe('2025-06-15T15:06:40.123Z');
    expect(timestampValue(null)).toBeNull();
    expect(timestampValue(Number.MAX_SAFE_INTEGER)).toBe('9999-12-31T23:59:59.999Z');
    expect(timestampValue(-Number.MAX_SAFE_INTEGER)).toBe('0001-01-01T00:00:00.000Z');
  });

  it('replaces NUL, which PostgreSQL text cannot hold', () => {
    expect(textValue('a\0b')).toBe('a\uFFFDb');
    expect(textValue('plain')).toBe('plain');
  });

  it('keeps JSON text as it is (every digit), serializes objects, and turns non-JSON into a JSON string', () => {
    expect(jsonText('{"n": 12345678901234567890}')).toBe('{"n": 12345678901234567890}');
    expect(jsonText({ a: [1, null] })).toBe('{"a":[1,null]}');
    expect(jsonText('not json')).toBe('"not json"');
  });

  it('replaces escaped NULs, which jsonb refuses, but not an escaped backslash followed by u0000', () => {
    expect(jsonText('{"a":"x\\u0000y"}')).toBe('{"a":"x\\uFFFDy"}');
    expect(jsonText('{"a":"x\\\\u0000y"}')).toBe('{"a":"x\\\\u0000y"}');
    expect(jsonText('{"a":"\\\\\\u0000"}')).toBe('{"a":"\\\\\\uFFFD"}');
    expect(jsonText({ a: 'raw\0nul' })).toBe('{"a":"raw\\uFFFDnul"}');
  });

  it('replaces lone surrogates, which jsonb refuses, and keeps proper pairs', () => {
    expect(jsonText('{"a":"x\\ud800y"}')).toBe('{"a":"x\uFFFDy"}');
    expect(jsonText({ b: 'lone \uDC00' })).toBe('{"b":"lone \uFFFD"}');
    expect(JSON.parse(jsonText('{"smile":"\\ud83d\\ude00"}'))).toEqual({ smile: '\u{1F600}' });
  });

  it('builds array literals: numbers bare, NULL, text quoted with quotes and backslashes escaped', () => {
    expect(arrayLiteral([1, null, 3])).toBe('{1,NULL,3}');
    expect(arrayLiteral(['a', 'NULL', '', 'say "hi"', 'back\\slash', '{x,y}'])).toBe('{"a","NULL","","say \\"hi\\"","back\\\\slash","{x,y}"}');
  });

  it('wraps jsonb values so SQL NULL and JSON null stay apart', () => {
    expect(jsonArray(['{"a":1}', null, 'null'])).toBe('[{"v":{"a":1}},null,{"v":null}]');
  });
});

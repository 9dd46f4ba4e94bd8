import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../api/cursor.js';
import { formatPosition, parsePosition } from '../../../api/position.js';

const id = '01938c7e-1b2a-7c3d-8e4f-0123456789ab';

describe('page cursor', () => {
  it('round-trips (created_at with microseconds, id) as an opaque url-safe token', () => {
    const key = { createdAt: '2030-01-01T00:00:00.123456Z', id };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(key);
  });

  it.each([
    ['not base64 json', 'bm90LWEtY3Vyc29y'],
    ['characters outside base64url', 'abc$def'],
    ['a wrong shape', Buffer.from(JSON.stringify({ a: 1 })).toString('base64url')],
    ['a bad timestamp', Buffer.from(JSON.stringify(['yesterday', id])).toString('base64url')],
    ['an id with SQL in it', Buffer.from(JSON.stringify(['2030-01-01T00:00:00Z', "x' or 1=1 --"])).toString('base64url')],
  ])('refuses %s with 400 INVALID_CURSOR', (_label, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: 'INVALID_CURSOR', httpStatus: 400 }));
  });
});

describe('log position', () => {
  it('formats and parses <partition>:<offset>, keeping 64-bit offsets exact', () => {
    expect(formatPosition({ partition: 3, offset: '9007199254740993' })).toBe('3:9007199254740993');
    expect(parsePosition('3:9007199254740993')).toEqual({ partition: 3, offset: 9007199254740993n });
  });

  it.each(['3', '3:', ':4', '-1:4', '1:2:3', 'a:b'])('refuses "%s" with 400 INVALID_POSITION', (text) => {
    expect(() => parsePosition(text)).toThrow(expect.objectContaining({ code: 'INVALID_POSITION', httpStatus: 400 }));
  });
});

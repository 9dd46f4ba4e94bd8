import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deliveryProblem, signDelivery } from '../../../processors/notifier/signature.js';

const SECRET = 'x'.repeat(40);
const BODY = '{"taskId":"t-1","status":"Completed"}';
const NOW = 1_800_000_000;

describe('webhook signatures', () => {
  it('are HMAC-SHA256 of "<timestamp>.<body>" under the secret, hex, after "v1="', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    expect(signDelivery(SECRET, NOW, BODY)).toBe(`v1=${expected}`);
  });

  it('verify a fresh, untouched delivery', () => {
    expect(deliveryProblem({ secret: SECRET, body: BODY, timestamp: String(NOW), signature: signDelivery(SECRET, NOW, BODY), nowS: NOW + 10 })).toBeNull();
  });

  it.each([
    ['a changed body', { body: BODY.replace('Completed', 'Failed') }, 'signature does not match'],
    ['another secret', { secret: 'y'.repeat(40) }, 'signature does not match'],
    ['a moved timestamp', { timestamp: String(NOW + 1) }, 'signature does not match'],
    ['an old capture replayed', { nowS: NOW + 301 }, 'timestamp outside the tolerance'],
    ['no timestamp', { timestamp: undefined }, 'no valid timestamp'],
    ['a timestamp that is not a number', { timestamp: '12abc' }, 'no valid timestamp'],
    ['no signature', { signature: undefined }, 'no v1 signature'],
    ['a truncated signature', { signature: signDelivery(SECRET, NOW, BODY).slice(0, 20) }, 'signature does not match'],
  ])('refuse %s', (_what, change, problem) => {
    const check = { secret: SECRET, body: BODY, timestamp: String(NOW), signature: signDelivery(SECRET, NOW, BODY), nowS: NOW, ...change };
    expect(deliveryProblem(check)).toBe(problem);
  });
});

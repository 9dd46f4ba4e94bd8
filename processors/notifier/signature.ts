// How a webhook receiver knows a delivery came from this deployment and is fresh: the
// notifier signs `<timestamp>.<body>` with HMAC-SHA256 under STACKL_WEBHOOK_SECRET. A
// receiver recomputes it over the raw body, compares in constant time, refuses old
// timestamps (a replayed capture) and deduplicates on the delivery id (at least once).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_HEADERS = {
  deliveryId: 'stackl-delivery-id',
  taskId: 'stackl-task-id',
  attempt: 'stackl-delivery-attempt',
  timestamp: 'stackl-timestamp',
  signature: 'stackl-signature',
} as const;

const SCHEME = 'v1=';

/** The signature header's value for a body sent at `timestampS` (Unix seconds). */
export function signDelivery(secret: string, timestampS: number, body: string): string {
  return SCHEME + createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
}

export interface DeliveryCheck {
  secret: string;
  /** The raw body as received, before any JSON parsing. */
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  /** Oldest timestamp accepted, in seconds before `nowS` (default 300). */
  toleranceS?: number;
  nowS?: number;
}

/** Why a delivery must be refused, or null when it is authentic and fresh. For receivers written in TypeScript. */
export function deliveryProblem(check: DeliveryCheck): string | null {
  const { secret, body, timestamp, signature } = check;
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return 'no valid timestamp';
  if (signature === undefined || !signature.startsWith(SCHEME)) return 'no v1 signature';
  const nowS = check.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowS - Number(timestamp)) > (check.toleranceS ?? 300)) return 'timestamp outside the tolerance';
  const expected = Buffer.from(signDelivery(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given) ? null : 'signature does not match';
}

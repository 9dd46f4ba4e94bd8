// One outcome to one webhook: POSTed until a 2xx answers, with a growing pause between
// tries, up to a bound. Each try is signed afresh (its own timestamp) and carries the same
// delivery id, so a receiver that got an earlier try it could not answer deduplicates.
import { setTimeout as sleep } from 'node:timers/promises';
import type { NotifierSettings } from '../../core/webhook-config.js';
import { signDelivery, WEBHOOK_HEADERS } from './signature.js';

export interface Delivery {
  deliveryId: string;
  taskId: string;
  target: string;
  document: string;
}

export type DeliveryOutcome =
  | { delivered: true; attempts: number; status: number }
  /** Every try failed; `last` says how the last one did. */
  | { delivered: false; attempts: number; last: string }
  /** The notifier is stopping: the outcome stays uncommitted and is delivered again later. */
  | { delivered: false; interrupted: true };

export type TrySettings = Pick<NotifierSettings, 'secret' | 'timeoutMs' | 'maxAttempts' | 'initialBackoffMs' | 'maxBackoffMs'>;

/** One POST: the status on an answer, or what went wrong. Redirects are not followed (a 3xx could lead anywhere). */
async function postOnce(delivery: Delivery, attempt: number, settings: TrySettings, stop: AbortSignal): Promise<{ status: number } | { error: string }> {
  const timestampS = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'stackl-notifier',
    [WEBHOOK_HEADERS.deliveryId]: delivery.deliveryId,
    [WEBHOOK_HEADERS.taskId]: delivery.taskId,
    [WEBHOOK_HEADERS.attempt]: String(attempt),
    [WEBHOOK_HEADERS.timestamp]: String(timestampS),
  };
  if (settings.secret !== undefined) headers[WEBHOOK_HEADERS.signature] = signDelivery(settings.secret, timestampS, delivery.document);
  try {
    const response = await fetch(delivery.target, {
      method: 'POST',
      headers,
      body: delivery.document,
      redirect: 'manual',
      signal: AbortSignal.any([stop, AbortSignal.timeout(settings.timeoutMs)]),
    });
    // The answer's body means nothing to us; do not let a receiver make us read megabytes.
    await response.body?.cancel().catch(() => {});
    return { status: response.status };
  } catch (error) {
    if (stop.aborted) return { error: 'stopped' };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const name = (error as Error).name;
    return { error: name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : (cause?.code ?? cause?.message ?? (error as Error).message) };
  }
}

export async function deliver(delivery: Delivery, settings: TrySettings, stop: AbortSignal, onTry?: (attempt: number, result: string) => void): Promise<DeliveryOutcome> {
  let last = '';
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt += 1) {
    if (stop.aborted) return { delivered: false, interrupted: true };
    const result = await postOnce(delivery, attempt, settings, stop);
    if (stop.aborted) return { delivered: false, interrupted: true };
    if ('status' in result && result.status >= 200 && result.status < 300) return { delivered: true, attempts: attempt, status: result.status };
    last = 'status' in result ? `answered ${result.status}` : result.error;
    onTry?.(attempt, last);
    if (attempt === settings.maxAttempts) break;
    const pauseMs = Math.min(settings.maxBackoffMs, settings.initialBackoffMs * 2 ** (attempt - 1));
    await sleep(pauseMs, undefined, { signal: stop }).catch(() => {});
  }
  return { delivered: false, attempts: settings.maxAttempts, last };
}

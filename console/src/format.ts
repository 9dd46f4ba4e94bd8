// Small display helpers shared by the views.
export const shortId = (id: string) => id.slice(0, 8) + '…' + id.slice(-4);

export function when(iso: string | null): string {
  if (iso === null) return '';
  const date = new Date(iso);
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  const ago = seconds < 60 ? `${seconds}s ago` : seconds < 3600 ? `${Math.round(seconds / 60)}m ago` : seconds < 86_400 ? `${Math.round(seconds / 3600)}h ago` : date.toLocaleDateString();
  return ago;
}

export const clock = (iso: string) => new Date(iso).toISOString().replace('T', ' ').replace('Z', '');

export const json = (value: unknown) => (value === undefined ? '' : JSON.stringify(value, null, 2));

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The task id a submission with this idempotency key got (processors/broker/ids.ts): the
 * first 16 bytes of SHA-256("stackl.task-id:" + key) as a UUID v8. crypto.subtle exists
 * only in a secure context (https, or 127.0.0.1/localhost): elsewhere, null.
 */
export async function taskIdForKey(key: string): Promise<string | null> {
  if (globalThis.crypto?.subtle === undefined) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`stackl.task-id:${key}`)));
  const bytes = digest.slice(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

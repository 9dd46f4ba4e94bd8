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

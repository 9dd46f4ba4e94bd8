// The kinds this deployment accepts (GET /kinds): built-in and registered by workers, with
// the pool serving each, its defaults and, a click away, the JSON Schema of each action's
// payload, so an operator can see what a worker registered and a client what to send.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { json, when } from './format.js';

interface Kind {
  name: string;
  source: 'built-in' | 'registered';
  version: number;
  description: string | null;
  pool: string;
  actions: string[];
  payloadSchemas: Record<string, unknown>;
  rollback: 'compensate' | 'none';
  defaults: Record<string, number | null>;
  registeredAt: number | null;
  registeredBy: string | null;
}

export function Kinds() {
  const [kinds, setKinds] = useState<Kind[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    setError(null);
    getJson<{ kinds: Kind[] }>('/kinds').then(
      (r) => setKinds(r.kinds),
      (e: Error) => setError(e.message),
    );
  };
  useEffect(load, []);
  return html`<section>
    <h1>Kinds</h1>
    <div class="toolbar"><button onClick=${load}>Refresh</button></div>
    ${error !== null && html`<p class="error" role="alert">${error}</p>`}
    ${kinds === null && error === null && html`<p>Reading the kind registry…</p>`}
    ${kinds !== null &&
    html`<table class="kinds">
      <thead><tr><th>Kind</th><th>Source</th><th>Pool</th><th>Version</th><th>Actions</th><th>Rollback</th><th>Defaults</th><th>Registered</th></tr></thead>
      <tbody>
        ${kinds.map(
          (k) => html`<tr key=${k.name} data-kind=${k.name}>
            <td>
              <details><summary><strong>${k.name}</strong>${k.description === null ? '' : ` — ${k.description}`}</summary>
                ${k.actions.map((action) => html`<h3>${action}</h3><pre>${json(k.payloadSchemas[action])}</pre>`)}
              </details>
            </td>
            <td>${k.source}</td>
            <td>${k.pool}</td>
            <td>${k.version}</td>
            <td>${k.actions.join(', ')}</td>
            <td>${k.rollback}</td>
            <td>${Object.entries(k.defaults).map(([name, value]) => `${name} ${value ?? '—'}`).join(', ') || '—'}</td>
            <td>${k.registeredAt === null ? '—' : `${when(new Date(k.registeredAt).toISOString())} by ${k.registeredBy ?? '?'}`}</td>
          </tr>`,
        )}
      </tbody>
    </table>`}
  </section>`;
}

// The dead-letter topic: its newest records, each with where it came from (the
// stackl.dlq.* headers) and why, the record's value a click away. Read on demand: the
// API reads the topic to its end for each look, so there is no live update here.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { clock } from './format.js';

interface DeadLetter {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  headers: Record<string, string | null>;
  value: { text: string } | { base64: string } | null;
  valueBytes: number;
}

const header = (d: DeadLetter, name: string) => d.headers[`stackl.dlq.${name}`] ?? '';

export function DeadLetters() {
  const [items, setItems] = useState<DeadLetter[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    setError(null);
    getJson<{ items: DeadLetter[] }>('/dead-letters?limit=100').then(
      (r) => setItems(r.items),
      (e: Error) => setError(e.message),
    );
  };
  useEffect(load, []);
  return html`<section>
    <h1>Dead letters</h1>
    <div class="toolbar"><button onClick=${load}>Refresh</button></div>
    ${error !== null && html`<p class="error" role="alert">${error}</p>`}
    ${items === null && error === null && html`<p>Reading the dead-letter topic…</p>`}
    ${items !== null && items.length === 0 && html`<p class="empty">The dead-letter topic is empty.</p>`}
    ${items !== null &&
    items.length > 0 &&
    html`<table class="dead-letters">
      <thead><tr><th>At</th><th>Record</th><th>From</th><th>Code</th><th>Message</th><th>App</th><th>Key</th></tr></thead>
      <tbody>
        ${items.map(
          (d) => html`<tr key=${`${d.partition}:${d.offset}`} data-dead-letter=${`${d.partition}:${d.offset}`}>
            <td>${clock(d.timestamp)}</td>
            <td>${d.partition}:${d.offset}</td>
            <td>${header(d, 'topic')}${header(d, 'partition') === '' ? '' : ` ${header(d, 'partition')}:${header(d, 'offset')}`}</td>
            <td>${header(d, 'error.code')}</td>
            <td>${header(d, 'error.message')}</td>
            <td>${header(d, 'app')}</td>
            <td>
              <details><summary>${d.key ?? '—'} (${d.valueBytes} bytes)</summary>
                <pre>${JSON.stringify(d.headers, null, 2)}</pre>
                <pre>${d.value === null ? 'no value' : 'text' in d.value ? d.value.text : `base64: ${d.value.base64}`}</pre>
              </details>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>`}
  </section>`;
}

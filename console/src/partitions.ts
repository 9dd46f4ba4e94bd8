// The partitions of STACKL's consumer groups: who owns each, where its group committed,
// how far behind it is. Read every few seconds; a partition whose lag stays above zero
// while its commit does not move for STUCK_MS is marked stuck, one without an owner too.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson } from './api.js';

interface PartitionRow {
  role: string;
  group: string;
  topic: string;
  partition: number;
  owner: string | null;
  committed: string | null;
  end: string;
  lag: number;
}

const STUCK_MS = 30_000;

export function Partitions() {
  const [rows, setRows] = useState<PartitionRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // group/topic/partition → the committed offset and when it was first seen there.
  const since = useRef(new Map<string, { committed: string | null; at: number }>());
  useEffect(() => {
    const load = () =>
      getJson<{ items: PartitionRow[] }>('/partitions').then(
        (r) => {
          const now = Date.now();
          for (const row of r.items) {
            const key = `${row.group}/${row.topic}/${row.partition}`;
            if (since.current.get(key)?.committed !== row.committed) since.current.set(key, { committed: row.committed, at: now });
          }
          setRows(r.items);
          setError(null);
        },
        (e: Error) => setError(e.message),
      );
    void load();
    const timer = setInterval(() => void load(), 5000);
    return () => clearInterval(timer);
  }, []);
  const stateOf = (row: PartitionRow): string => {
    if (row.lag === 0) return 'ok';
    if (row.owner === null) return 'no owner';
    const seen = since.current.get(`${row.group}/${row.topic}/${row.partition}`);
    return seen !== undefined && Date.now() - seen.at >= STUCK_MS ? 'stuck' : 'behind';
  };
  return html`<section>
    <h1>Partitions</h1>
    ${error !== null && html`<p class="error" role="alert">${error}</p>`}
    ${rows !== null &&
    html`<table class="partitions">
      <thead><tr><th>Role</th><th>Topic</th><th>Partition</th><th>Owner</th><th>Committed</th><th>End</th><th>Lag</th><th>State</th></tr></thead>
      <tbody>
        ${rows.map((r) => {
          const state = stateOf(r);
          return html`<tr key=${`${r.group}/${r.partition}`} data-role=${r.role} data-partition=${r.partition} data-state=${state}>
            <td>${r.role}</td><td>${r.topic}</td><td>${r.partition}</td><td>${r.owner ?? '—'}</td>
            <td>${r.committed ?? '—'}</td><td>${r.end}</td><td>${r.lag}</td>
            <td><span class=${`state ${state.replace(' ', '-')}`}>${state}</span></td>
          </tr>`;
        })}
      </tbody>
    </table>`}
  </section>`;
}

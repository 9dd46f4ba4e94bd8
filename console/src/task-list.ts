// The tasks list: the API's filters, newest first, a page at a time (cursor), search by
// task id or idempotency key, kept current by the live stream: a listed task is replaced
// when it changes, a new one that matches the filters comes in on top.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { listTasks, type Task } from './api.js';
import { shortId, taskIdForKey, UUID, when } from './format.js';
import { onTaskChange } from './live.js';

const STATUSES = ['Available', 'InProgress', 'Completed', 'Failed', 'Rejected'];
const PAGE = 25;

export interface Filters {
  status: string;
  kind: string;
  rollback: string;
}

const matches = (task: Task, f: Filters) =>
  (f.status === '' || task.status === f.status) && (f.kind === '' || task.kind === f.kind) && (f.rollback === '' || task.rollback === f.rollback);

export function TaskList({ title, fixed }: { title: string; fixed?: Partial<Filters> }) {
  const [filters, setFilters] = useState<Filters>({ status: '', kind: '', rollback: '', ...fixed });
  const [tasks, setTasks] = useState<Task[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  // Re-rendered now and then so "5s ago" does not stand still on a quiet list.
  const [, setNow] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 10_000);
    return () => clearInterval(timer);
  }, []);

  const load = async (after: string | null) => {
    const query = new URLSearchParams({ limit: String(PAGE) });
    for (const [name, value] of Object.entries(filters)) if (value !== '') query.set(name, value);
    if (after !== null) query.set('cursor', after);
    try {
      const page = await listTasks(query);
      setTasks((shown) => (after === null ? page.items : [...shown, ...page.items]));
      setCursor(page.nextCursor);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  useEffect(() => {
    void load(null);
  }, [filters.status, filters.kind, filters.rollback]);

  useEffect(
    () =>
      onTaskChange((task) =>
        setTasks((shown) => {
          const at = shown.findIndex((t) => t.id === task.id);
          // An older reading never replaces a newer one (the same task submitted again after an expunge restarts its sequence).
          if (at >= 0) return shown.map((t, i) => (i === at && (task.sequence >= t.sequence || task.createdAt !== t.createdAt) ? task : t));
          if (!matches(task, filters)) return shown;
          return [task, ...shown].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
        }),
      ),
    [filters.status, filters.kind, filters.rollback],
  );

  // A UUID is taken as a task id; anything else as an idempotency key, whose task id is derived from it.
  const find = async (event: Event) => {
    event.preventDefault();
    const text = search.trim();
    if (text === '') return;
    const id = UUID.test(text) ? text.toLowerCase() : await taskIdForKey(search);
    if (id !== null) location.hash = `#/task/${id}`;
    else setError('this page is not in a secure context (https or 127.0.0.1): search by task id');
  };

  return html`
    <section>
      <h1>${title}</h1>
      <div class="toolbar">
        ${fixed?.status === undefined &&
        html`<label>Status <select name="status" value=${filters.status} onChange=${(e: Event) => setFilters({ ...filters, status: (e.target as HTMLSelectElement).value })}>
          <option value="">any</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select></label>`}
        <label>Kind <input name="kind" placeholder="any" value=${filters.kind} onChange=${(e: Event) => setFilters({ ...filters, kind: (e.target as HTMLInputElement).value.trim() })} /></label>
        <form class="search" onSubmit=${(e: Event) => void find(e)}>
          <input name="search" placeholder="task id or idempotency key" value=${search} onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)} />
          <button type="submit">Open</button>
        </form>
      </div>
      ${error !== null && html`<p class="error" role="alert">${error}</p>`}
      <table class="tasks">
        <thead><tr><th>Task</th><th>Kind</th><th>Status</th><th>Rollback</th><th>Attempts</th><th>Created</th><th>Updated</th></tr></thead>
        <tbody>
          ${tasks.map(
            (t) => html`<tr key=${t.id} data-task-id=${t.id}>
              <td><a href=${`#/task/${t.id}`} title=${t.id}>${shortId(t.id)}</a></td>
              <td>${t.kind ?? '—'}${t.action === null ? '' : `.${t.action}`}</td>
              <td><span class=${`status ${t.status}`} data-status=${t.status}>${t.status}</span></td>
              <td data-rollback=${t.rollback ?? ''}>${t.rollback ?? ''}</td>
              <td>${t.attempts}${t.maxAttempts === null ? '' : `/${t.maxAttempts}`}</td>
              <td title=${t.createdAt}>${when(t.createdAt)}</td>
              <td title=${t.updatedAt}>${when(t.updatedAt)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${tasks.length === 0 && error === null && html`<p class="empty">No tasks.</p>`}
      ${cursor !== null && html`<button class="more" onClick=${() => void load(cursor)}>More</button>`}
    </section>
  `;
}

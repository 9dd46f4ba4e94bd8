// One task: what it is and where it stands, its payload and output, every event of its
// history, and the operator's actions (Cancel, Retry rollback) when they apply and the
// key may use them, each behind a confirmation.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getEvents, getTask, postCommand, type Task, type TaskEvent } from './api.js';
import { clock, json } from './format.js';
import { onTaskChange } from './live.js';

type Action = { label: string; path: string; question: string };

function actionsFor(task: Task): Action[] {
  const actions: Action[] = [];
  if (task.status === 'Available' || task.status === 'InProgress') {
    actions.push({ label: 'Cancel', path: 'cancel', question: 'Cancel this task? A running attempt is stopped and rolled back.' });
  }
  if (task.rollback === 'failed') actions.push({ label: 'Retry rollback', path: 'rollback/retry', question: 'Retry the rollback of this task?' });
  return actions;
}

/** The fields of an event body worth a column; the whole body is one click away. */
function detailOf(event: TaskEvent): { worker: string; note: string } {
  const body = (event.body ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
  const note = ['reason', 'code', 'error', 'message']
    .map((k) => text(body[k]))
    .filter((v) => v !== '')
    .join(' · ');
  const duration = text(body.durationMs);
  return { worker: text(body.workerId), note: duration === '' ? note : `${note}${note === '' ? '' : ' · '}${duration} ms` };
}

/** How long each attempt and rollback attempt took: its end event's time less its dispatch's. */
function durations(events: TaskEvent[]): Map<string, number> {
  const started = new Map<string, number>();
  const took = new Map<string, number>();
  for (const e of events) {
    const rollback = e.type.startsWith('Rollback');
    const which = rollback ? e.rollbackAttempt : e.attempt;
    if (which === null || !(rollback || e.type.startsWith('Attempt'))) continue;
    const key = `${rollback ? 'r' : 'a'}${which}`;
    if (e.type === 'AttemptDispatched' || e.type === 'RollbackDispatched') started.set(key, Date.parse(e.time));
    else if (/(Succeeded|Failed)$/.test(e.type) && started.has(key)) took.set(e.eventId, Date.parse(e.time) - (started.get(key) ?? 0));
  }
  return took;
}

export function TaskView({ id, canOperate }: { id: string; canOperate: boolean }) {
  const [task, setTask] = useState<Task | null>(null);
  const [events, setEvents] = useState<TaskEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState<Action | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const refresh = async () => {
    try {
      const [t, e] = await Promise.all([getTask(id), getEvents(id)]);
      setTask(t);
      setEvents(e);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void refresh();
    // The task row changing means new events too: read both again.
    return onTaskChange((changed) => {
      if (changed.id === id) void refresh();
    });
  }, [id]);

  const confirm = async (action: Action) => {
    setAsking(null);
    try {
      await postCommand(`/tasks/${encodeURIComponent(id)}/${action.path}`, { requestedBy: 'console' });
      setNotice(`${action.label}: sent`);
    } catch (e) {
      setNotice(`${action.label} failed: ${(e as Error).message}`);
    }
  };

  if (task === null) return html`<section>${error === null ? html`<p>Loading…</p>` : html`<p class="error" role="alert">${error}</p>`}</section>`;
  const actions = canOperate ? actionsFor(task) : [];
  const took = durations(events);
  return html`
    <section class="task">
      <h1>Task <code>${task.id}</code></h1>
      <dl class="facts">
        <dt>Kind</dt><dd>${task.kind ?? '—'}${task.action === null ? '' : `.${task.action}`}</dd>
        <dt>Status</dt><dd><span class=${`status ${task.status}`} data-status=${task.status}>${task.status}</span></dd>
        <dt>Rollback</dt><dd data-rollback=${task.rollback ?? ''}>${task.rollback ?? '—'}${task.rollbackAttempts > 0 ? ` (${task.rollbackAttempts} attempts)` : ''}</dd>
        <dt>Attempts</dt><dd>${task.attempts}${task.maxAttempts === null ? '' : ` of ${task.maxAttempts}`}${task.workerId === null ? '' : ` · worker ${task.workerId}`}</dd>
        ${task.failure !== null && html`<dt>Failure</dt><dd>${task.failure.reason}${task.failure.message === null ? '' : `: ${task.failure.message}`}</dd>`}
        ${task.rejection !== null && html`<dt>Rejected</dt><dd>${task.rejection.code}: ${task.rejection.message ?? ''}</dd>`}
        ${task.rollbackError !== null && html`<dt>Rollback error</dt><dd>${task.rollbackError}</dd>`}
        <dt>Origin</dt><dd>${task.origin === null ? '—' : `${task.origin.type}${task.origin.target === null ? '' : ` → ${task.origin.target}`}`}</dd>
        <dt>Idempotency key</dt><dd>${task.idempotencyKey ?? '—'}</dd>
        <dt>Created</dt><dd>${clock(task.createdAt)}</dd>
        <dt>Updated</dt><dd>${clock(task.updatedAt)}</dd>
        ${task.deadlineAt !== null && html`<dt>Deadline</dt><dd>${clock(task.deadlineAt)}</dd>`}
      </dl>
      ${actions.length > 0 &&
      html`<div class="actions">${actions.map((a) => html`<button class="danger" onClick=${() => setAsking(a)}>${a.label}</button>`)}</div>`}
      ${asking !== null &&
      html`<div class="confirm" role="dialog" aria-label="confirm">
        <p>${asking.question}</p>
        <button class="danger" onClick=${() => void confirm(asking)}>Yes, ${asking.label.toLowerCase()}</button>
        <button onClick=${() => setAsking(null)}>No</button>
      </div>`}
      ${notice !== null && html`<p class="notice" role="status">${notice}</p>`}
      <div class="data">
        <div><h2>Payload</h2><pre>${json(task.payload)}</pre></div>
        <div><h2>Output</h2><pre>${task.output === null ? '—' : json(task.output)}</pre></div>
      </div>
      <h2>Timeline</h2>
      <table class="timeline">
        <thead><tr><th>#</th><th>Time</th><th>Event</th><th>Attempt (took)</th><th>Worker</th><th>Detail</th></tr></thead>
        <tbody>
          ${events.map((e) => {
            const d = detailOf(e);
            return html`<tr key=${e.eventId} data-event=${e.type}>
              <td>${e.sequence}</td>
              <td>${clock(e.time)}</td>
              <td>${e.type}</td>
              <td>${e.rollbackAttempt === null ? (e.attempt ?? '') : `rollback ${e.rollbackAttempt}`}${took.has(e.eventId) ? html` <span class="took">(${took.get(e.eventId)} ms)</span>` : ''}</td>
              <td>${d.worker}</td>
              <td><details><summary>${d.note === '' ? 'body' : d.note}</summary><pre>${json(e.body)}</pre></details></td>
            </tr>`;
          })}
        </tbody>
      </table>
    </section>
  `;
}

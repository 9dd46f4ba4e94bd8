// The CLI's answers for people (output.ts picks them on a terminal or with --human):
// tables with relative times, a task as labelled lines, one line per event.
import type { TaskBody } from '../schemas.js';
import { ago, table, type Style } from './output.js';

/** Long JSON cut to a line's worth: people read the start; --json gives the rest. */
function brief(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'null';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function taskText(task: TaskBody, style: Style, now = Date.now()): string {
  const rows: [string, string][] = [
    ['task', style.bold(task.id)],
    ['kind', `${task.kind ?? '-'}/${task.action ?? '-'}`],
    ['status', `${style.status(task.status)}${task.rollback === null ? '' : `, rollback ${task.rollback === 'failed' ? style.bad(task.rollback) : task.rollback}`}`],
    ['attempts', `${task.attempts}${task.maxAttempts === null ? '' : ` of ${task.maxAttempts}`}${task.workerId === null ? '' : ` (last on ${task.workerId})`}`],
  ];
  if (task.progress !== null) rows.push(['progress', `${task.progress.percent}%${task.progress.message === null ? '' : ` ${task.progress.message}`}`]);
  if (task.failure !== null) rows.push(['failure', style.bad(`${task.failure.reason}${task.failure.message === null ? '' : `: ${task.failure.message}`}`)]);
  if (task.rejection !== null) rows.push(['rejected', style.bad(`${task.rejection.code}${task.rejection.message === null ? '' : `: ${task.rejection.message}`}`)]);
  if (task.attemptError !== null) rows.push(['last error', task.attemptError]);
  if (task.rollbackError !== null) rows.push(['rollback error', style.bad(task.rollbackError)]);
  if (task.retryAt !== null) rows.push(['retry', ago(task.retryAt, now)]);
  if (task.output !== null && task.output !== undefined) rows.push(['output', brief(task.output, 200)]);
  rows.push(['payload', brief(task.payload, 200)]);
  if (task.origin !== null && task.origin.type !== 'none') rows.push(['origin', `${task.origin.type} ${task.origin.target ?? ''}`]);
  rows.push(['created', `${ago(task.createdAt, now)} (${task.createdAt})`], ['updated', ago(task.updatedAt, now)]);
  if (task.deadlineAt !== null && !['Completed', 'Failed', 'Rejected'].includes(task.status)) rows.push(['deadline', ago(task.deadlineAt, now)]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${style.dim(label.padEnd(width))}  ${value}`).join('\n');
}

export function taskListText(page: { items: TaskBody[]; nextCursor: string | null }, style: Style, now = Date.now()): string {
  if (page.items.length === 0) return style.dim('no tasks match');
  const rows = page.items.map((t) => [t.id, `${t.kind ?? '-'}/${t.action ?? '-'}`, style.status(t.status), t.rollback ?? '', String(t.attempts), ago(t.updatedAt, now)]);
  const text = table(['ID', 'KIND', 'STATUS', 'ROLLBACK', 'ATTEMPTS', 'UPDATED'], rows, style);
  return page.nextCursor === null ? text : `${text}\n${style.dim(`more: --cursor ${page.nextCursor}`)}`;
}

/** The fields of an event body worth a glance, in a fixed order. */
const EVENT_FIELDS = ['attempt', 'rollbackAttempt', 'workerId', 'reason', 'code', 'percent', 'message', 'retryAt', 'output'] as const;

export function eventLine(event: { time: string | number; sequence: number; type: string; body: unknown }, style: Style): string {
  const time = new Date(typeof event.time === 'number' ? event.time : Date.parse(event.time));
  const clock = Number.isNaN(time.getTime()) ? String(event.time) : time.toISOString().slice(11, 23);
  const body = (typeof event.body === 'object' && event.body !== null ? event.body : {}) as Record<string, unknown>;
  const details = EVENT_FIELDS.filter((f) => body[f] !== undefined && body[f] !== null).map((f) => `${f}=${brief(body[f], 60)}`);
  const type = /Failed|Rejected|TimedOut/.test(event.type) ? style.bad(event.type) : /Succeeded|Completed/.test(event.type) ? style.good(event.type) : event.type;
  return `${style.dim(clock)}  ${String(event.sequence).padStart(3)}  ${type}${details.length === 0 ? '' : `  ${style.dim(details.join(' '))}`}`;
}

export function kindsText(kinds: { name: string; source: string; pool: string; version: number; actions: string[]; description: string | null }[], style: Style): string {
  return table(
    ['KIND', 'SOURCE', 'POOL', 'VERSION', 'ACTIONS', 'DESCRIPTION'],
    kinds.map((k) => [style.bold(k.name), k.source, k.pool, String(k.version), k.actions.join(','), brief(k.description ?? '', 60)]),
    style,
  );
}

export function settledText(outcome: { settled: string; rollback: string | null; attempts: number; output: unknown; failure: { reason: string; message: string | null } | null }, style: Style): string {
  const head = `${style.bold('settled')} ${style.status(outcome.settled)} after ${outcome.attempts} attempt${outcome.attempts === 1 ? '' : 's'}`;
  if (outcome.settled === 'Completed') return `${head}; output ${brief(outcome.output, 200)}`;
  const why = outcome.failure === null ? '' : `: ${outcome.failure.reason}${outcome.failure.message === null ? '' : ` (${outcome.failure.message})`}`;
  return `${head}${why}${outcome.rollback === null ? '' : `; rollback ${outcome.rollback}`}`;
}

export function deadLettersText(records: { dlq: string; at: string; code: string | null; from: { topic: string } | null; message: string | null }[], style: Style, now = Date.now()): string {
  if (records.length === 0) return style.dim('the dead-letter topic is empty');
  const rows = records.map((r) => [r.dlq, ago(Number(r.at), now), style.bad(r.code ?? '-'), r.from?.topic ?? '-', brief(r.message ?? '', 70)]);
  return table(['RECORD', 'WHEN', 'CODE', 'FROM', 'WHY'], rows, style);
}

interface ServiceState {
  address: string;
  answering: boolean;
  ours: boolean;
}

export function stackStatusText(report: { kafka: ServiceState; postgres: ServiceState; redis: ServiceState; rabbitmq: ServiceState; logs: string }, style: Style): string {
  const rows = (['kafka', 'postgres', 'redis', 'rabbitmq'] as const).map((name) => {
    const service = report[name];
    return [name, service.address, service.answering ? style.good('answering') : style.bad('not answering'), service.ours ? 'started by stackl up' : ''];
  });
  return `${table(['SERVICE', 'ADDRESS', 'STATE', ''], rows, style)}\n${style.dim(`logs: ${report.logs}`)}`;
}

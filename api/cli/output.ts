// How a command answers: text for people when its output is a terminal (or with --human),
// JSON for scripts when it is piped (or with --json), so `stackl list | jq` keeps working
// while a person at a terminal reads a table. Colours only on a terminal, and never with
// NO_COLOR set (no-color.org) or TERM=dumb.
import { stripVTControlCharacters } from 'node:util';

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  good(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  note(text: string): string;
  /** A task status, coloured by what it means. */
  status(status: string): string;
}

export interface Output {
  readonly human: boolean;
  /** A command's result: indented JSON, or `render` for people. */
  result<T>(value: T, render: (value: T, style: Style) => string): void;
  /** One item of a stream (watch, audit): a JSON line, or `render`. */
  line<T>(value: T, render: (value: T, style: Style) => string): void;
}

const CODES = { bold: [1, 22], dim: [2, 22], good: [32, 39], bad: [31, 39], warn: [33, 39], note: [36, 39] } as const;

export function styleFor(color: boolean): Style {
  const paint = (name: keyof typeof CODES) => (text: string) => (color ? `\u001b[${CODES[name][0]}m${text}\u001b[${CODES[name][1]}m` : text);
  const style = { bold: paint('bold'), dim: paint('dim'), good: paint('good'), bad: paint('bad'), warn: paint('warn'), note: paint('note') };
  return {
    ...style,
    status: (status) => {
      if (status === 'Completed') return style.good(status);
      if (status === 'Failed' || status === 'Rejected') return style.bad(status);
      if (status === 'InProgress') return style.note(status);
      return status;
    },
  };
}

export function createOutput(write: (text: string) => void, human: boolean, color: boolean): Output {
  const style = styleFor(color);
  return {
    human,
    result: (value, render) => write(human ? render(value, style) : JSON.stringify(value, null, 2)),
    line: (value, render) => write(human ? render(value, style) : JSON.stringify(value)),
  };
}

/** Colours when writing to a terminal that wants them. */
export function colorWanted(tty: boolean, env: Record<string, string | undefined>): boolean {
  return tty && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
}

/** Columns padded to their widest cell (colour codes do not count), two spaces apart. */
export function table(header: string[], rows: string[][], style: Style): string {
  const visible = (text: string): number => stripVTControlCharacters(text).length;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visible(cell)))))
      .join('  ')
      .trimEnd();
  return [style.bold(line(header)), ...rows.map(line)].join('\n');
}

/** "4 s ago", "3 min ago", "2 h ago", "5 d ago"; the future reads "in …". */
export function ago(time: number | string | Date, now: number = Date.now()): string {
  const at = time instanceof Date ? time.getTime() : typeof time === 'string' ? Date.parse(time) : time;
  if (!Number.isFinite(at)) return String(time);
  const seconds = Math.round((now - at) / 1000);
  const span = Math.abs(seconds);
  const text = span < 60 ? `${span} s` : span < 3_600 ? `${Math.round(span / 60)} min` : span < 86_400 ? `${Math.round(span / 3_600)} h` : `${Math.round(span / 86_400)} d`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** A duration in ms for people: 850 ms, 2.4 s, 3 min 5 s. */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}


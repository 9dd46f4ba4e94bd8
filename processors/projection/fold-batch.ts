// Folds one batch of events into what the batch writes: every event row, and per task
// either a whole new row (the batch (re)started the task) or its moved columns. Pure:
// the rows already stored come in as `stored`, so a unit test can drive it.
import type { TaskEventMessage } from '../../schemas/index.js';
import { advance, createdRow, eventRow, isCreating } from './map-event.js';
import type { EventRow, LogPosition, TaskCurrent, TaskRow } from './rows.js';

export interface PositionedEvent {
  at: LogPosition;
  event: TaskEventMessage;
}

export interface FoldedBatch {
  events: EventRow[];
  /** Tasks the batch submitted or rejected (maybe moved further): written whole. */
  created: TaskRow[];
  /** Tasks that already had a row: only the moved columns are written. */
  updated: TaskCurrent[];
  /** Events at or before their task's stored position: already applied, skipped. */
  alreadyApplied: number;
}

type Folding = { row: TaskRow; created: true } | { row: TaskCurrent; created: false };

/** True when `at` comes after the row's position (a task never changes partition). */
export function isAfter(at: LogPosition, row: Pick<TaskCurrent, 'lastPartition' | 'lastOffset'>): boolean {
  return at.partition !== row.lastPartition ? at.partition > row.lastPartition : at.offset > row.lastOffset;
}

/**
 * `events` in log order. An event at or before its task's stored position changes
 * nothing: that is what makes a redelivered or replayed batch harmless.
 */
export function foldBatch(events: readonly PositionedEvent[], stored: ReadonlyMap<string, TaskCurrent>): FoldedBatch {
  const folding = new Map<string, Folding>();
  let alreadyApplied = 0;
  const rows: EventRow[] = [];
  for (const { at, event } of events) {
    rows.push(eventRow(event, at));
    // A command refused about a task the broker does not hold (never known, or expunged; a
    // task shed for load is expunged at once) carries sequence 0. History only: applied to
    // the row of an earlier life it moved last_sequence back to 0.
    if (event.type === 'CommandRejected' && event.sequence === 0) continue;
    const before = folding.get(event.taskId) ?? storedFolding(stored.get(event.taskId));
    if (before !== undefined && !isAfter(at, before.row)) {
      alreadyApplied += 1;
      continue;
    }
    if (isCreating(event)) {
      folding.set(event.taskId, { row: createdRow(event, at), created: true });
    } else if (before?.created === true) {
      folding.set(event.taskId, { row: advance(before.row, event, at), created: true });
    } else if (before !== undefined) {
      folding.set(event.taskId, { row: advance(before.row, event, at), created: false });
    }
    // Otherwise no row exists (a CommandRejected about an unknown task): history only.
  }
  const created: TaskRow[] = [];
  const updated: TaskCurrent[] = [];
  for (const f of folding.values()) {
    if (f.created) created.push(f.row);
    else updated.push(f.row);
  }
  return { events: rows, created, updated, alreadyApplied };
}

function storedFolding(row: TaskCurrent | undefined): Folding | undefined {
  return row === undefined ? undefined : { row, created: false };
}

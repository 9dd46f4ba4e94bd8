import { describe, expect, it } from 'vitest';
import { foldBatch, isAfter, type PositionedEvent } from '../../../processors/projection/fold-batch.js';
import type { TaskCurrent } from '../../../processors/projection/rows.js';
import { T0, TaskLife } from './fixtures.js';

function completedLife(life = new TaskLife()): PositionedEvent[] {
  return [
    life.submitted(),
    life.at('AttemptDispatched', { attempt: 1, deadlineAt: T0 }),
    life.at('AttemptStarted', { attempt: 1, workerId: 'w', heartbeatDeadlineAt: null }),
    life.at('AttemptSucceeded', { attempt: 1, output: '{"ok":1}' }),
    life.at('TaskCompleted', { output: '{"ok":1}' }),
  ];
}

/** Folds the events batch by batch, carrying rows over as the database would. */
function inBatches(events: PositionedEvent[], sizes: number[]): Map<string, TaskCurrent> {
  const stored = new Map<string, TaskCurrent>();
  let start = 0;
  for (const size of [...sizes, events.length]) {
    const folded = foldBatch(events.slice(start, start + size), stored);
    for (const row of [...folded.created, ...folded.updated]) stored.set(row.id, row);
    start += size;
    if (start >= events.length) break;
  }
  return stored;
}

describe('foldBatch', () => {
  it('a whole lifecycle in one batch is one created row, at its final state, and every event row', () => {
    const folded = foldBatch(completedLife(), new Map());
    expect(folded.events.map((e) => e.type)).toEqual(['TaskSubmitted', 'AttemptDispatched', 'AttemptStarted', 'AttemptSucceeded', 'TaskCompleted']);
    expect(folded.updated).toEqual([]);
    expect(folded.created).toHaveLength(1);
    expect(folded.created[0]).toMatchObject({ status: 'Completed', output: '{"ok":1}', attempts: 1, lastSequence: 5, lastOffset: 104, kind: 'probe' });
  });

  it('gives the same rows however the log is cut into batches', () => {
    const a = new TaskLife('01970a3e-5c1b-7d2e-9f00-00000000000a', 0, 10);
    const b = new TaskLife('01970a3e-5c1b-7d2e-9f00-00000000000b', 0, 10);
    // Interleaved on one partition: the offsets of each task grow, with the other's in between.
    const [ofA, ofB] = [completedLife(a), completedLife(b)];
    const events = ofA.flatMap((e, i) => [e, ofB[i] as PositionedEvent]).map((e, i) => ({ ...e, at: { partition: 0, offset: i } }));
    const whole = inBatches(events, []);
    for (const sizes of [[1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 4], [7], [2, 5, 1]]) expect(inBatches(events, sizes)).toEqual(whole);
  });

  it('changes nothing for events at or before a task’s stored position (redelivery)', () => {
    const events = completedLife();
    const stored = inBatches(events, []);
    const again = foldBatch(events, stored);
    expect(again).toMatchObject({ created: [], updated: [], alreadyApplied: 5 });
    expect(again.events).toHaveLength(5);
    // A batch that overlaps what is stored applies only what is new.
    const overlapping = foldBatch(events, inBatches(events.slice(0, 3), []));
    expect(overlapping).toMatchObject({ created: [], alreadyApplied: 3 });
    expect(overlapping.updated).toEqual([...stored.values()]);
  });

  it('a submission after an expunge starts a new life: sequence 1 again, the old row replaced whole', () => {
    const life = new TaskLife();
    const first = completedLife(life);
    const expunged = life.at('TaskExpunged', {});
    const again = life.submitted({ payload: '{"again":true}' });
    const stored = inBatches([...first, expunged], []);
    const folded = foldBatch([again, life.at('AttemptDispatched', { attempt: 1, deadlineAt: T0 })], stored);
    expect(folded.created).toEqual([expect.objectContaining({ status: 'Available', payload: '{"again":true}', output: null, attempts: 1, lastSequence: 2, createdAt: again.event.time })]);
    expect(inBatches([...first, expunged, again], [2, 4])).toEqual(inBatches([...first, expunged, again], []));
  });

  it('an event about a task with no row (a rejected command about nobody) is history only', () => {
    const life = new TaskLife();
    const orphan = life.at('CommandRejected', { command: 'CancelTask', code: 'TASK_NOT_FOUND', message: 'no such task' });
    expect(foldBatch([{ ...orphan, event: { ...orphan.event, sequence: 0 } }], new Map())).toMatchObject({ created: [], updated: [], alreadyApplied: 0, events: [{ type: 'CommandRejected', sequence: 0 }] });
  });

  it('a command refused about a task the broker no longer holds (sequence 0) leaves its row as it was', () => {
    const life = new TaskLife();
    const rejected = life.submitted();
    const rejection = { ...rejected, event: { ...rejected.event, type: 'TaskRejected', body: { code: 'OVERLOADED', message: 'shed' } } } as PositionedEvent;
    const stored = inBatches([rejection], []);
    const refused = life.at('CommandRejected', { command: 'CancelTask', code: 'TASK_NOT_CANCELLABLE', message: 'the task has ended and left the broker' });
    const folded = foldBatch([{ ...refused, event: { ...refused.event, sequence: 0 } }], stored);
    expect(folded).toMatchObject({ created: [], updated: [], events: [{ type: 'CommandRejected', sequence: 0 }] });
    expect(inBatches([rejection, { ...refused, event: { ...refused.event, sequence: 0 } }], [])).toEqual(stored);
  });

  it('orders positions by partition, then offset', () => {
    expect(isAfter({ partition: 1, offset: 5 }, { lastPartition: 1, lastOffset: 4 })).toBe(true);
    expect(isAfter({ partition: 1, offset: 4 }, { lastPartition: 1, lastOffset: 4 })).toBe(false);
    expect(isAfter({ partition: 2, offset: 0 }, { lastPartition: 1, lastOffset: 9 })).toBe(true);
  });
});

// Invariant 4 of the chaos suite, on hand-made histories: lateness counts from when the
// load produced the request to the first terminal outcome, and a rollback reopened by a
// late result is bounded on its own.
import { describe, expect, it } from 'vitest';
import { endedInTime, LATENESS_BOUND_MS, timeline } from '../../chaos/support/invariants.js';
import type { SubmittedTask } from '../../chaos/support/load.js';
import type { TaskEventMessage } from '../../../schemas/index.js';

const T0 = 1_750_000_000_000;
const TIMEOUT = 6_000;
const task = { taskId: 't1', scenario: 'probe-timeout', accepted: true, submittedAt: T0, overloadedMs: 0, request: { timeoutMs: TIMEOUT } } as unknown as SubmittedTask;

function history(...steps: Array<[string, number, Record<string, unknown>?]>): Map<string, TaskEventMessage[]> {
  const events = steps.map(([type, at, body], i) => ({ type, time: T0 + at, sequence: i + 1, eventId: `e${i}`, taskId: 't1', body: body ?? {} }) as unknown as TaskEventMessage);
  return new Map([['t1', events]]);
}

describe('chaos invariant 4: ended in time', () => {
  it('measures to the first terminal outcome, and bounds a rollback a late result reopened on its own', () => {
    const result = endedInTime([task], history(['TaskSubmitted', 0], ['TaskFailed', TIMEOUT], ['RollbackDispatched', TIMEOUT], ['RollbackSucceeded', 10_000], ['RollbackDispatched', 300_000], ['RollbackSucceeded', 305_000]));
    expect(result.violations).toEqual([]);
    expect(result).toMatchObject({ worstOverMs: 4_000, reopened: 1, worstReopenedMs: 5_000 });
  });

  it('counts a rejection as an end: a task the broker shed ended when it was refused', () => {
    expect(endedInTime([task], history(['TaskRejected', 50_000, { code: 'OVERLOADED' }]))).toMatchObject({ violations: [], worstOverMs: 50_000 - TIMEOUT });
    const late = TIMEOUT + LATENESS_BOUND_MS + 1;
    expect(endedInTime([task], history(['TaskRejected', late, { code: 'OVERLOADED' }])).violations).toEqual([`task t1 (probe-timeout) ended ${LATENESS_BOUND_MS + 1} ms after its ${TIMEOUT} ms timeout, counted from its request: TaskRejected@126.0`]);
  });

  it('reports a task whose first outcome came later than its timeout plus the bound', () => {
    const late = TIMEOUT + LATENESS_BOUND_MS + 1;
    const result = endedInTime([task], history(['TaskSubmitted', 0], ['RollbackFailed', late - 1, { retryAt: T0 + late + 5 }], ['RollbackSucceeded', late]));
    expect(result.violations).toEqual([`task t1 (probe-timeout) ended ${LATENESS_BOUND_MS + 1} ms after its ${TIMEOUT} ms timeout, counted from its request: TaskSubmitted@0.0 RollbackFailed@126.0 RollbackSucceeded@126.0`]);
  });

  it('starts the clock when the load produced the request, not when the broker saw it', () => {
    // The request was held up 50 s by a fault; the broker's own timeout would let the task end in time.
    const end = TIMEOUT + LATENESS_BOUND_MS + 10;
    const result = endedInTime([task], history(['TaskSubmitted', 50_000], ['TaskFailed', end - 1, { reason: 'timeout' }], ['RollbackSucceeded', end]));
    expect(result.violations).toEqual([`task t1 (probe-timeout) ended ${LATENESS_BOUND_MS + 10} ms after its ${TIMEOUT} ms timeout, counted from its request: TaskSubmitted@50.0 TaskFailed@126.0 RollbackSucceeded@126.0`]);
    expect(result.worstOverMs).toBe(LATENESS_BOUND_MS + 10);
  });

  it('does not count the time the API declined the task as overloaded, and still counts the rest', () => {
    // Refused with 503 OVERLOADED for 100 s in all (the client waiting to send again), then accepted.
    const declined = { ...task, overloadedMs: 100_000 } as SubmittedTask;
    const inTime = TIMEOUT + LATENESS_BOUND_MS + 100_000;
    expect(endedInTime([declined], history(['TaskSubmitted', 100_000], ['TaskFailed', inTime - 1, { reason: 'timeout' }], ['RollbackSucceeded', inTime])).violations).toEqual([]);
    const late = endedInTime([declined], history(['TaskSubmitted', 100_000], ['RollbackSucceeded', inTime + 1]));
    expect(late.violations).toEqual([
      `task t1 (probe-timeout) ended ${LATENESS_BOUND_MS + 1} ms after its ${TIMEOUT} ms timeout, counted from its request: TaskSubmitted@100.0 RollbackSucceeded@226.0 (declined for the backlog 100.0 s)`,
    ]);
  });

  it('reports a reopened rollback that took longer than the bound, or never ended', () => {
    const slow = endedInTime([task], history(['TaskSubmitted', 0], ['RollbackSucceeded', 7_000], ['RollbackDispatched', 20_000], ['RollbackSucceeded', 20_000 + LATENESS_BOUND_MS + 1]));
    expect(slow.violations).toEqual([`task t1 (probe-timeout) reopened by a late result took ${LATENESS_BOUND_MS + 1} ms to roll back again`]);
    const open = endedInTime([task], history(['TaskSubmitted', 0], ['RollbackSucceeded', 7_000], ['RollbackDispatched', 20_000]));
    expect(open.violations).toEqual(['task t1 (probe-timeout) reopened by a late result never ended again']);
  });

  it('reports a task that never ended once the bound has passed, and not before', () => {
    const open = history(['TaskSubmitted', 0], ['AttemptDispatched', 1]);
    const late = endedInTime([task], open, T0 + TIMEOUT + LATENESS_BOUND_MS + 5);
    expect(late.violations).toEqual([`task t1 (probe-timeout) has not ended ${LATENESS_BOUND_MS + 5} ms after its ${TIMEOUT} ms timeout, counted from its request`]);
    expect(endedInTime([task], open, T0 + TIMEOUT + 1_000).violations).toEqual([]);
  });

  it('says where the time of a late task went: each event, its attempt, and the seconds since the request', () => {
    const [events] = history(['TaskSubmitted', 1_200], ['AttemptDispatched', 1_500, { attempt: 1 }], ['TaskFailed', 61_000, { reason: 'timeout' }], ['RollbackDispatched', 61_060, { rollbackAttempt: 1 }], ['RollbackSucceeded', 190_000]).values();
    expect(timeline(task, events ?? [])).toBe('TaskSubmitted@1.2 AttemptDispatched#1@1.5 TaskFailed@61.0 RollbackDispatched#1@61.1 RollbackSucceeded@190.0');
  });
});

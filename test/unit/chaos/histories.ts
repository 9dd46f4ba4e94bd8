// Hand-made task histories and load tasks for the chaos suite's unit tests: each step
// is [event type, ms after T0, body], numbered 1..n as the broker numbers them.
import type { SubmittedTask } from '../../chaos/support/load.js';
import type { TaskEventMessage } from '../../../schemas/index.js';

export const T0 = 1_750_000_000_000;

export type Step = [string, number, Record<string, unknown>?];

export function events(taskId: string, ...steps: Step[]): TaskEventMessage[] {
  return steps.map(([type, at, body], i) => ({ type, time: T0 + at, sequence: i + 1, eventId: `${taskId}-e${i}`, taskId, causationId: null, correlationId: null, body: body ?? {} }) as unknown as TaskEventMessage);
}

export function loadTask(taskId: string, fields: Omit<Partial<SubmittedTask>, 'request'> & { request?: Partial<SubmittedTask['request']> } = {}): SubmittedTask {
  const { request, ...rest } = fields;
  return {
    n: 1,
    scenario: 'probe-ok',
    taskId,
    route: 'kafka',
    submittedAt: T0,
    tries: 1,
    accepted: true,
    refusals: [],
    overloadedMs: 0,
    ...rest,
    request: { kind: 'probe', action: 'run', payload: {}, idempotencyKey: taskId, timeoutMs: 60_000, ...request },
  } as SubmittedTask;
}

/** The usual endings. */
export const rolledBack: Step[] = [['TaskSubmitted', 0], ['AttemptDispatched', 1, { attempt: 1 }], ['AttemptStarted', 2, { attempt: 1 }], ['AttemptFailed', 3, { attempt: 1, reason: 'error', retryAt: null }], ['TaskFailed', 3, { reason: 'error' }], ['RollbackDispatched', 4, { rollbackAttempt: 1 }], ['RollbackSucceeded', 5, { rollbackAttempt: 1 }]];
export const completed: Step[] = [['TaskSubmitted', 0], ['AttemptDispatched', 1, { attempt: 1 }], ['AttemptStarted', 2, { attempt: 1 }], ['AttemptSucceeded', 3, { attempt: 1 }], ['TaskCompleted', 3, { output: '{}' }]];

// Events of one task for the projection's pure code: a TaskLife numbers envelopes like
// the broker does (1, 2, … and from 1 again after an expunge), times one second apart.
import type { PositionedEvent } from '../../../processors/projection/fold-batch.js';
import type { TaskEventBodies, TaskEventMessage, TaskSpec } from '../../../schemas/index.js';

export const TASK_ID = '01970a3e-5c1b-7d2e-9f00-1234567890ab';
export const T0 = 1_750_000_000_000;

export function spec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id: TASK_ID, kind: 'probe', action: 'run', payload: '{"outcome":"succeed"}', origin: { type: 'topic', target: 'replies' }, idempotencyKey: 'key-1',
    timeoutMs: 60_000, attemptTimeoutMs: null, heartbeatTimeoutMs: null, maxAttempts: 3, retryBackoff: { initialMs: 100, multiplier: 2, maxMs: 1000 },
    rollbackMaxAttempts: 2, rollbackBackoff: { initialMs: 100, multiplier: 2, maxMs: 1000 }, submittedAt: T0, ...overrides,
  };
}

export class TaskLife {
  private sequence = 0;
  private time = T0;
  private offset: number;

  constructor(readonly taskId = TASK_ID, readonly partition = 1, firstOffset = 100) {
    this.offset = firstOffset - 1;
  }

  event<K extends keyof TaskEventBodies>(type: K, body: TaskEventBodies[K]): TaskEventMessage {
    this.sequence = type === 'TaskSubmitted' || type === 'TaskRejected' ? 1 : this.sequence + 1;
    this.time += 1000;
    const eventId = `00000000-0000-4000-8000-${String(this.time % 1e12).padStart(12, '0')}`;
    return { eventId, taskId: this.taskId, sequence: this.sequence, time: this.time, causationId: null, correlationId: null, type, body } as TaskEventMessage;
  }

  /** The event at the next offset of this task's partition (other tasks' events may sit between). */
  at<K extends keyof TaskEventBodies>(type: K, body: TaskEventBodies[K], gap = 1): PositionedEvent {
    this.offset += gap;
    return { at: { partition: this.partition, offset: this.offset }, event: this.event(type, body) };
  }

  submitted(overrides: Partial<TaskSpec> = {}): PositionedEvent {
    return this.at('TaskSubmitted', { task: spec({ id: this.taskId, ...overrides }), deadlineAt: T0 + 60_000 });
  }
}

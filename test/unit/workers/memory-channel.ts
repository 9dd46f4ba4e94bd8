// A work channel in memory for unit tests of the worker: records every report and every
// call in order, and delivers orders by hand.
import type { TaskResultMessage, TaskSpec } from '../../../schemas/index.js';
import type { WorkChannel, WorkDelivery, WorkOrder } from '../../../channels/work-channel.js';
import { spec } from '../lifecycle/fixtures.js';

export class MemoryChannel implements WorkChannel {
  readonly name = 'memory';
  readonly calls: string[] = [];
  readonly results: TaskResultMessage[] = [];
  private handle: ((delivery: WorkDelivery) => Promise<void>) | undefined;

  async consume(handle: (delivery: WorkDelivery) => Promise<void>): Promise<void> {
    this.handle = handle;
  }

  deliver(order: WorkOrder): Promise<void> {
    if (this.handle === undefined) throw new Error('not consuming');
    return this.handle({ order, keepAlive: async () => {} });
  }

  async report(result: TaskResultMessage): Promise<void> {
    this.results.push(result);
    this.calls.push(result.type);
  }

  async stopTaking(): Promise<void> {
    this.calls.push('stopTaking');
  }

  async close(): Promise<void> {
    this.calls.push('close');
  }
}

let n = 0;
export function attempt(payload: object, leftMs: number, kind = 'probe', overrides: Partial<TaskSpec> = {}): WorkOrder {
  n += 1;
  const task = spec({ id: `01970a3e-5c1b-7d2e-9f00-${String(n).padStart(12, '0')}`, kind, payload: JSON.stringify(payload), ...overrides });
  return { eventId: `e${n}`, taskId: task.id, sequence: 0, time: Date.now(), causationId: null, correlationId: null, type: 'RunAttempt', body: { task, attempt: 1, deadlineAt: Date.now() + leftMs } };
}

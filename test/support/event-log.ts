// Reads task.events (read committed) into a per-task history, for assertions such as
// "this task reached exactly one terminal outcome" or "no event appears twice".
import type { Consumer, Kafka } from 'kafkajs';
import { decode, taskEventSchema, type TaskEventMessage } from '../../schemas/index.js';
import { token } from './names.js';

export class EventLog {
  readonly byTask = new Map<string, TaskEventMessage[]>();
  readonly all: TaskEventMessage[] = [];
  private consumer: Consumer;
  private readonly groupId = `event-log-${token()}`;
  private stopped = false;
  /** Highest offset taken per partition. */
  private readonly seen = new Map<number, bigint>();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {
    this.consumer = this.newConsumer();
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        // A consumer that rejoins (a Kafka restart) resumes from its last committed offset
        // and hands records over again: the log holds them once, so they are kept once.
        // (Without this the chaos suite saw "duplicated events" the log never had.)
        const offset = BigInt(message.offset);
        if (offset <= (this.seen.get(partition) ?? -1n)) return;
        this.seen.set(partition, offset);
        const event = await decode(message.value ?? Buffer.alloc(0), taskEventSchema);
        this.all.push(event);
        const list = this.byTask.get(event.taskId) ?? [];
        list.push(event);
        this.byTask.set(event.taskId, list);
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
  }

  /**
   * kafkajs gives a consumer up for good after some failures (seen when Kafka restarted
   * in the chaos suite, and this reader then stood still): start a new one in the same
   * group, which resumes from the committed offsets.
   */
  private newConsumer(): Consumer {
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 50, readUncommitted: false });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped) return;
      void (async () => {
        await consumer.disconnect().catch(() => {});
        for (let tries = 0; !this.stopped; tries++) {
          try {
            this.consumer = this.newConsumer();
            await this.start();
            return;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 500 * (tries + 1))));
          }
        }
      })();
    });
    return consumer;
  }

  types(taskId: string): string[] {
    return (this.byTask.get(taskId) ?? []).map((e) => e.type);
  }

  /** Waits until `predicate` holds for the task's history; fails with the history so far. */
  async waitFor(taskId: string, predicate: (types: string[]) => boolean, timeoutMs = 30_000): Promise<TaskEventMessage[]> {
    const until = Date.now() + timeoutMs;
    while (!predicate(this.types(taskId))) {
      if (Date.now() > until) throw new Error(`task ${taskId} history did not match in ${timeoutMs} ms: [${this.types(taskId).join(', ')}]`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.byTask.get(taskId) ?? [];
  }

  async waitForAll(predicate: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > until) throw new Error(`event log did not reach the expected state in ${timeoutMs} ms: ${describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export const TERMINAL_TYPES = new Set(['TaskCompleted', 'RollbackSucceeded', 'TaskRejected']);

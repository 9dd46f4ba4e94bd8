// Writes task events to task.events exactly as the lifecycle processor does (keyed by
// task id, on the murmur2 partition, in transactions), so projection tests can place
// each event type at a known offset. TaskLife numbers a task's envelopes like the
// broker: sequence 1, 2, … and again from 1 after an expunge.
import type { Admin, Kafka, Message, Producer, RecordMetadata } from 'kafkajs';
import { eventId, uuidV7 } from '../../../processors/broker/ids.js';
import { encode, taskEventSchema, type TaskEventBodies, type TaskEventMessage, type TaskSpec } from '../../../schemas/index.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { token } from '../../support/names.js';
import { topicOffsets } from '../../../topics/topic-offsets.js';

export function spec(id: string, overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id, kind: 'probe', action: 'run', payload: '{"outcome":"succeed"}', origin: { type: 'topic', target: 'replies' }, idempotencyKey: id,
    timeoutMs: 60_000, attemptTimeoutMs: null, heartbeatTimeoutMs: null, maxAttempts: 2, retryBackoff: { initialMs: 100, multiplier: 2, maxMs: 1000 },
    rollbackMaxAttempts: 2, rollbackBackoff: { initialMs: 100, multiplier: 2, maxMs: 1000 }, submittedAt: 1_750_000_000_000, ...overrides,
  };
}

export class TaskLife {
  private sequence = 0;
  time = 1_750_000_000_000;

  constructor(readonly taskId: string = uuidV7()) {}

  /** The next event of this task, one second after the previous one. */
  next<K extends keyof TaskEventBodies>(type: K, body: TaskEventBodies[K]): TaskEventMessage {
    this.sequence = type === 'TaskSubmitted' || type === 'TaskRejected' ? 1 : this.sequence + 1;
    this.time += 1000;
    return { eventId: eventId(), taskId: this.taskId, sequence: this.sequence, time: this.time, causationId: null, correlationId: `c-${this.taskId}`, type, body } as TaskEventMessage;
  }
}

export interface Written {
  event: TaskEventMessage;
  partition: number;
  offset: number;
}

export class EventWriter {
  private readonly producer: Producer;

  private readonly admin: Admin;

  constructor(kafka: Kafka, private readonly topic: string, private readonly partitions: number) {
    this.producer = kafka.producer({ transactionalId: `projection-test-writer-${token()}`, idempotent: true, maxInFlightRequests: 1 });
    this.admin = kafka.admin();
  }

  async connect(): Promise<void> {
    await Promise.all([this.producer.connect(), this.admin.connect()]);
  }

  async disconnect(): Promise<void> {
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
  }

  /**
   * commit() and abort() return once the coordinator decided; the markers that move
   * each partition's last stable offset follow. Tests that measure lag right after a
   * write wait for them here, or they would race the broker.
   */
  private async settled(ends: Map<number, number>): Promise<void> {
    const until = Date.now() + 10_000;
    for (;;) {
      const offsets = await topicOffsets(this.admin, this.topic);
      const stable = [...ends].every(([partition, end]) => Number(offsets.find((o) => o.partition === partition)?.high ?? -1) > end);
      if (stable || Date.now() > until) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Sends `messages` in one transaction and commits it (or aborts it, when asked). A
   * retriable answer (a partition's leader not ready yet on a busy broker, as in a CI
   * run) aborts the transaction and sends it all again, as the broker's own producers do,
   * so a placed event never lands twice in committed data.
   */
  private async transact(messages: Message[], abort = false): Promise<RecordMetadata[]> {
    for (let attempt = 1; ; attempt += 1) {
      const transaction = await this.producer.transaction();
      let metadata: RecordMetadata[];
      try {
        metadata = await transaction.send({ topic: this.topic, acks: -1, messages });
      } catch (error) {
        if (attempt >= 5 || !(error as { retriable?: boolean }).retriable) throw error;
        await transaction.abort().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
        continue;
      }
      // Only a failed send is redone: a commit that failed may still have landed.
      await (abort ? transaction.abort() : transaction.commit());
      return metadata;
    }
  }

  /** Writes `events` in one transaction (aborted when asked) and says where each landed. */
  async write(events: TaskEventMessage[], options: { abort?: boolean } = {}): Promise<Written[]> {
    const messages = events.map((event) => ({ key: event.taskId, value: encode(taskEventSchema, event), partition: partitionForKey(event.taskId, this.partitions) }));
    const metadata = await this.transact(messages, options.abort === true);
    const next = new Map(metadata.map((m) => [m.partition, Number(m.baseOffset)]));
    const written = messages.map((m, i) => {
      const offset = next.get(m.partition) ?? 0;
      next.set(m.partition, offset + 1);
      return { event: events[i] as TaskEventMessage, partition: m.partition, offset };
    });
    await this.settled(endsOf(written));
    return written;
  }

  /**
   * Writes raw bytes (a record that does not decode), then `events`, in one transaction on
   * the partition of `key`: one record batch, so the projector reads them in one kafkajs batch.
   * Every event must be keyed to that partition (events of the task `key` names are).
   */
  async writeRawThen(key: string, value: Buffer, events: TaskEventMessage[]): Promise<{ partition: number; rawOffset: number }> {
    const partition = partitionForKey(key, this.partitions);
    if (events.some((e) => partitionForKey(e.taskId, this.partitions) !== partition)) throw new Error('every event must be on the partition of the raw record');
    const messages = [{ key, value, partition }, ...events.map((event) => ({ key: event.taskId, value: encode(taskEventSchema, event), partition }))];
    const [metadata] = await this.transact(messages);
    const rawOffset = Number(metadata?.baseOffset ?? 0);
    await this.settled(new Map([[partition, rawOffset + messages.length]]));
    return { partition, rawOffset };
  }

  /** Writes raw bytes (a record that does not decode) under a task id's key. */
  async writeRaw(key: string, value: Buffer): Promise<Written['partition']> {
    const partition = partitionForKey(key, this.partitions);
    const [metadata] = await this.transact([{ key, value, partition }]);
    await this.settled(new Map([[partition, Number(metadata?.baseOffset ?? 0) + 1]]));
    return partition;
  }
}

/** Per partition, the offset just past the last event written there. */
export function endsOf(written: readonly Written[]): Map<number, number> {
  const ends = new Map<number, number>();
  for (const w of written) ends.set(w.partition, Math.max(ends.get(w.partition) ?? 0, w.offset + 1));
  return ends;
}

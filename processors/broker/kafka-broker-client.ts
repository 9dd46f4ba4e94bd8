// The `kafka` broker's producer side: every request becomes a command on
// task.requests, keyed by task id, and is acknowledged once the log has it (acks=all,
// idempotent producer). The lifecycle processor decides what it means.
import type { Kafka, Producer } from 'kafkajs';
import { StacklError } from '../../core/errors.js';
import { encode, taskRequestSchema, type TaskRequestMessage } from '../../schemas/index.js';
import { partitionForKey } from '../../topics/partitioner.js';
import { eventId, isTaskId, taskIdForKey, uuidV7 } from './ids.js';
import type { OperatorRequest, Receipt, SubmitRequest, TaskCommands } from './task-broker.js';

export class KafkaBrokerClient implements TaskCommands {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly requestsTopic: string,
    private readonly partitions: number,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  submit(request: SubmitRequest): Promise<Receipt> {
    return this.send(this.submitMessage(request));
  }

  cancel(taskId: string, request: OperatorRequest = {}): Promise<Receipt> {
    return this.send({ ...this.envelope(checked(taskId), request.correlationId), type: 'CancelTask', body: { reason: request.reason ?? null, requestedBy: request.requestedBy ?? null } });
  }

  retryRollback(taskId: string, request: OperatorRequest = {}): Promise<Receipt> {
    return this.send({ ...this.envelope(checked(taskId), request.correlationId), type: 'RetryRollback', body: { requestedBy: request.requestedBy ?? null } });
  }

  /** Sends many submissions in one produce request: what bulk producers and benchmarks use. */
  async submitMany(requests: SubmitRequest[]): Promise<Receipt[]> {
    return this.sendAll(requests.map((r) => this.submitMessage(r)));
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
    this.connected = undefined;
  }

  private submitMessage(request: SubmitRequest): TaskRequestMessage {
    return { ...this.envelope(request.idempotencyKey === undefined ? uuidV7() : taskIdForKey(request.idempotencyKey), request.correlationId), type: 'SubmitTask', body: submitBody(request) };
  }

  private envelope(taskId: string, correlationId: string | undefined) {
    return { eventId: eventId(), taskId, sequence: 0, time: Date.now(), causationId: null, correlationId: correlationId ?? null };
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect();
    return this.connected;
  }

  private async send(message: TaskRequestMessage): Promise<Receipt> {
    const [receipt] = await this.sendAll([message]);
    return receipt as Receipt;
  }

  /**
   * Partitions explicitly with murmur2 (what the processor verifies), then reads each
   * record's offset off its partition's base offset: records of one partition in one
   * request are appended in order.
   */
  private async sendAll(messages: TaskRequestMessage[]): Promise<Receipt[]> {
    await this.connect();
    const partitionOf = messages.map((m) => partitionForKey(m.taskId, this.partitions));
    const metadata = await this.producer.send({
      topic: this.requestsTopic,
      acks: -1,
      messages: messages.map((m, i) => ({ key: m.taskId, value: encode(taskRequestSchema, m), partition: partitionOf[i] })),
    });
    const base = new Map(metadata.map((m) => [m.partition, BigInt(m.baseOffset ?? '0')]));
    const seen = new Map<number, bigint>();
    return messages.map((m, i) => {
      const partition = partitionOf[i] as number;
      const index = seen.get(partition) ?? 0n;
      seen.set(partition, index + 1n);
      return { taskId: m.taskId, position: { topic: this.requestsTopic, partition, offset: ((base.get(partition) ?? 0n) + index).toString() } };
    });
  }
}

function checked(taskId: string): string {
  if (!isTaskId(taskId)) throw new StacklError('INVALID_TASK_ID', `"${taskId}" is not a task id (a UUID)`, { httpStatus: 400 });
  return taskId;
}

function submitBody(request: SubmitRequest) {
  return {
    kind: request.kind,
    action: request.action,
    payload: JSON.stringify(request.payload ?? null),
    origin: request.origin ?? { type: 'none' as const, target: null },
    idempotencyKey: request.idempotencyKey ?? null,
    timeoutMs: request.timeoutMs ?? null,
    attemptTimeoutMs: request.attemptTimeoutMs ?? null,
    heartbeatTimeoutMs: request.heartbeatTimeoutMs ?? null,
    maxAttempts: request.maxAttempts ?? null,
    retryBackoff: request.retryBackoff ?? null,
    rollbackMaxAttempts: request.rollbackMaxAttempts ?? null,
    rollbackBackoff: request.rollbackBackoff ?? null,
  };
}

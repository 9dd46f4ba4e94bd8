// The `kafka` broker's producer side: every request becomes a command on
// task.requests, keyed by task id, and is acknowledged once the log has it (acks=all,
// idempotent producer). The lifecycle processor decides what it means. Requests made
// at about the same time (the API's concurrent POSTs) share one produce request.
import type { Kafka } from 'kafkajs';
import type { TaskRequestMessage } from '../../schemas/index.js';
import { CoalescingSender } from '../../topics/coalescing-sender.js';
import { partitionForKey } from '../../topics/partitioner.js';
import { RenewingProducer } from '../../topics/renewing-producer.js';
import { cancelMessage, encodedRequest, retryRollbackMessage, submitMessage, undeliveredMessage, type EncodedRequest } from './request-messages.js';
import type { OperatorRequest, Receipt, SubmitRequest, TaskCommands } from './task-broker.js';

/**
 * Most bytes of requests sent together: well under the broker's 1 MiB record batch limit,
 * so a request near the API's body limit travels alone and never sinks its neighbours.
 */
const MAX_COALESCED_BYTES = 512 * 1024;

/**
 * Longest a produce request of commands may take before it is given up and the producer
 * replaced. A healthy request takes milliseconds; the API answers its caller after
 * STACKL_API_SUBMIT_TIMEOUT_MS (5 s) anyway, so this only bounds how long the requests
 * queued behind a stuck one wait.
 */
export const DEFAULT_SEND_DEADLINE_MS = 15_000;

export class KafkaBrokerClient implements TaskCommands {
  private readonly producer: RenewingProducer;
  private readonly coalesced = new CoalescingSender<EncodedRequest, Receipt>((requests) => this.sendAll(requests), {
    maxItems: 1000,
    maxBytes: MAX_COALESCED_BYTES,
    sizeOf: (r) => r.value.length + r.taskId.length,
  });

  constructor(
    kafka: Kafka,
    private readonly requestsTopic: string,
    private readonly partitions: number,
    options: { sendDeadlineMs?: number } = {},
  ) {
    // Replaced after a failed send: kafkajs' sequence numbers are not to be trusted then.
    // Also after a send that outlives its deadline: the coalesced sends behind it wait for
    // it, and kafkajs may retry a stuck request for minutes (renewing-producer.ts).
    this.producer = new RenewingProducer(kafka, undefined, { sendDeadlineMs: options.sendDeadlineMs ?? DEFAULT_SEND_DEADLINE_MS });
  }

  submit(request: SubmitRequest): Promise<Receipt> {
    return this.send(submitMessage(request));
  }

  cancel(taskId: string, request: OperatorRequest = {}): Promise<Receipt> {
    return this.send(cancelMessage(taskId, request));
  }

  retryRollback(taskId: string, request: OperatorRequest = {}): Promise<Receipt> {
    return this.send(retryRollbackMessage(taskId, request));
  }

  /** The notifier gave up on a webhook: the broker records it on the task (ReplyUndelivered). */
  reportUndelivered(taskId: string, report: { target: string; code: string; message: string; causationId: string }): Promise<Receipt> {
    return this.send(undeliveredMessage(taskId, report));
  }

  /** Sends many submissions in one produce request: what bulk producers and benchmarks use. */
  async submitMany(requests: SubmitRequest[]): Promise<Receipt[]> {
    return this.sendAll(requests.map((r) => encodedRequest(submitMessage(r))));
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }

  private async send(message: TaskRequestMessage): Promise<Receipt> {
    return this.coalesced.send(encodedRequest(message));
  }

  /**
   * Partitions explicitly with murmur2 (what the processor verifies), then reads each
   * record's offset off its partition's base offset: records of one partition in one
   * request are appended in order.
   */
  private async sendAll(messages: EncodedRequest[]): Promise<Receipt[]> {
    const partitionOf = messages.map((m) => partitionForKey(m.taskId, this.partitions));
    const metadata = await this.producer.send({
      topic: this.requestsTopic,
      acks: -1,
      messages: messages.map((m, i) => ({ key: m.taskId, value: m.value, partition: partitionOf[i] })),
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

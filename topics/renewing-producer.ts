// An idempotent producer that is replaced after any send that failed. kafkajs rolls a
// partition's sequence number back when a produce request fails, even when the broker
// wrote the batch before the answer was lost (a leader killed mid-request, say). Every
// later send of that producer then carries a sequence the broker has already seen or
// skipped: OUT_OF_ORDER_SEQUENCE_NUMBER on each one, for good (found by the 3-node
// leader-kill test: a worker dropped every result after the leader of its results
// partition died). A new producer gets a new producer id, so its sequences start afresh.
// The record that failed is the caller's to send again; where a duplicate could matter
// the consumer deduplicates (requests by task id, results by attempt).
//
// kafkajs may also report a send spanning several leaders as written when a leader moved
// during it and some of its records were not (one-partition-per-send.ts): the partitions
// its answer lacks are sent again, one per send. Messages without a partition, whose
// answer cannot be told apart, go one per send from the start.
//
// A send that does not settle within `sendDeadlineMs` (when set) is given up the same way:
// kafkajs retries a request that times out (30 s each, 8 retries) for minutes, and a
// caller that sends one request at a time (the API's coalesced submissions) waits behind
// it all that time. The 30-min chaos run of ca05fa5 saw the API's producer write nothing
// for 133 s after a Kafka kill -9, until the API was killed.
import type { Kafka, Producer, ProducerConfig, ProducerRecord, RecordMetadata } from 'kafkajs';
import { StacklError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { onePartitionPerSend, unanswered } from './one-partition-per-send.js';

const log = createLogger({ component: 'producer' });

export class RenewingProducer {
  private producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: ProducerConfig = { idempotent: true, maxInFlightRequests: 1 },
    private readonly options: { sendDeadlineMs?: number } = {},
  ) {
    this.producer = kafka.producer(config);
  }

  /** Connects now, for roles that want Kafka's absence to show at start; send connects anyway. */
  async connect(): Promise<void> {
    await this.connectProducer(this.producer);
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const producer = this.producer;
    try {
      return await this.withinDeadline(this.sendWith(producer, record));
    } catch (error) {
      this.replace(producer);
      throw error;
    }
  }

  private async sendWith(producer: Producer, record: ProducerRecord): Promise<RecordMetadata[]> {
    await this.connectProducer(producer);
    const checkable = record.acks !== 0 && record.messages.every((m) => m.partition !== undefined);
    if (!checkable && record.messages.length > 1) return this.sendApart(producer, record, record.messages);
    const answer = await producer.send(record);
    if (!checkable) return answer;
    const lacking = unanswered(record.topic, record.messages, answer);
    if (lacking.length === 0) return answer;
    const partitions = [...new Set(lacking.map((m) => m.partition))];
    log.warn('kafkajs answered a send without some of its partitions (a leader moved during it); sending them again', { topic: record.topic, partitions });
    return [...answer, ...(await this.sendApart(producer, record, lacking))];
  }

  private async withinDeadline<T>(sending: Promise<T>): Promise<T> {
    const deadlineMs = this.options.sendDeadlineMs;
    if (deadlineMs === undefined) return sending;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        log.warn('Kafka did not answer a send in time; giving it up and replacing the producer', { deadlineMs });
        reject(new StacklError('KAFKA_SEND_STALLED', `Kafka did not answer within ${deadlineMs} ms; the records may still land`, { retriable: true }));
      }, deadlineMs);
    });
    // The given-up send may still fail later; nobody waits for it any more.
    sending.catch(() => {});
    try {
      return await Promise.race([sending, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async sendApart(producer: Producer, record: ProducerRecord, messages: ProducerRecord['messages']): Promise<RecordMetadata[]> {
    const answers = await Promise.all(onePartitionPerSend(messages).map((group) => producer.send({ ...record, messages: group })));
    return answers.flat();
  }

  async disconnect(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    if (connected !== undefined) await this.producer.disconnect();
  }

  /** A connect that failed (Kafka away) is forgotten, so the next send tries again. */
  private connectProducer(producer: Producer): Promise<void> {
    this.connected ??= producer.connect().catch((error: unknown) => {
      if (this.producer === producer) this.connected = undefined;
      throw error;
    });
    return this.connected;
  }

  private replace(failed: Producer): void {
    // Concurrent sends that failed together replace it once.
    if (this.producer !== failed) return;
    this.producer = this.kafka.producer(this.config);
    this.connected = undefined;
    void failed.disconnect().catch(() => {});
  }
}

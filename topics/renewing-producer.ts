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
// Each send also goes out one partition per kafkajs send (one-partition-per-send.ts):
// kafkajs may otherwise report a send spanning several leaders as written when a leader
// moved during it and some of its records were not.
import type { Kafka, Producer, ProducerConfig, ProducerRecord, RecordMetadata } from 'kafkajs';
import { onePartitionPerSend } from './one-partition-per-send.js';

export class RenewingProducer {
  private producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: ProducerConfig = { idempotent: true, maxInFlightRequests: 1 },
  ) {
    this.producer = kafka.producer(config);
  }

  /** Connects now, for roles that want Kafka's absence to show at start; send connects anyway. */
  async connect(): Promise<void> {
    await this.connectProducer(this.producer);
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const producer = this.producer;
    await this.connectProducer(producer);
    try {
      const groups = onePartitionPerSend(record.messages);
      if (groups.length <= 1) return await producer.send(record);
      return (await Promise.all(groups.map((messages) => producer.send({ ...record, messages })))).flat();
    } catch (error) {
      this.replace(producer);
      throw error;
    }
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

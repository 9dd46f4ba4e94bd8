// Agent jobs over Kafka. Jobs go to agent.jobs keyed by target, so one target's jobs
// stay in order; every agent reads the whole topic in a group of its own and takes
// the jobs of the targets it serves. Replies go to agent.replies keyed by the waiting
// worker, which reads them in a private, never-committing group. That consumer renews
// itself when kafkajs gives up on it (a group coordinator not found after a Kafka
// restart): a worker that exited for it lost every attempt and rollback it was running.
//
// Both sides coalesce their sends (jobs, replies) into one produce request per round
// trip, each record on the partition its key hashes to. One send per record, on an
// idempotent producer with one request in flight, queued hundreds deep behind a slow
// link: in the 55 tasks/s chaos run a Kafka delay left 200 job sends waiting on one
// connection, kafkajs timed them out, and stack tasks stalled for two minutes.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage, Message } from 'kafkajs';
import { CoalescingSender } from '../topics/coalescing-sender.js';
import { partitionForKey } from '../topics/partitioner.js';
import { RenewingProducer } from '../topics/renewing-producer.js';
import { createLogger } from '../core/log.js';
import { deadLetter } from '../topics/dead-letter.js';
import { abortable, RESEND_AFTER_MS, sendUntilAnswered, type AgentJobClient, type AgentJobServer } from './agent-channel.js';
import { agentJobSchema, agentReplySchema, type AgentJob, type AgentJobRequest, type AgentReply } from './agent-messages.js';
import { watchConsumer, type OnConsumerStopped } from '../topics/consumer-watch.js';
import { RenewedConsumer } from './renewed-consumer.js';

/**
 * A restarted agent rejoins its group as a new member, and the group waits for the old one
 * as long as the session timeout: with kafkajs' 30 s every stack task stalled that long
 * after an agent restart (found by the chaos suite). 10 s, as for the relay and projector.
 */
const AGENT_SESSION = { sessionTimeout: 10_000, heartbeatInterval: 3_000 };

const MARKER_HEADER = 'stackl.agent.marker';

/** Records per coalesced send, and bytes: a partition's share must stay under max.message.bytes. */
const COALESCE_LIMITS = { maxItems: 200, maxBytes: 256 * 1024, sizeOf: (m: Message) => (m.value?.length ?? 0) + 64 };

/** Sends keyed records to `topic` through `producer`, many per request, on their keys' partitions. */
class KeyedSender {
  private readonly sender: CoalescingSender<Message, void>;
  private partitions: Promise<number> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: RenewingProducer,
    private readonly topic: string,
  ) {
    this.sender = new CoalescingSender<Message, void>(async (messages) => {
      await this.producer.send({ topic: this.topic, acks: -1, messages });
      return messages.map(() => undefined);
    }, COALESCE_LIMITS);
  }

  async send(key: string, value: string): Promise<void> {
    const partitions = await (this.partitions ??= this.partitionCount().catch((error: unknown) => {
      this.partitions = undefined;
      throw error;
    }));
    await this.sender.send({ key, value, partition: partitionForKey(key, partitions) });
  }

  private async partitionCount(): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [this.topic] });
      const count = topics[0]?.partitions.length ?? 0;
      if (count === 0) throw new Error(`topic ${this.topic} has no partitions`);
      return count;
    } finally {
      await admin.disconnect();
    }
  }
}

export interface KafkaAgentClientOptions {
  kafka: Kafka;
  jobsTopic: string;
  repliesTopic: string;
  /** The worker's id: replies come back keyed by it. */
  replyTo: string;
  groupPrefix: string;
}

export class KafkaAgentJobClient implements AgentJobClient {
  readonly name = 'kafka';
  private readonly producer: RenewingProducer;
  private readonly jobs: KeyedSender;
  private readonly consumer: RenewedConsumer;
  private readonly pending = new Map<string, (reply: AgentReply) => void>();
  private readonly markers = new Set<string>();
  private ready: Promise<void> | undefined;
  private readonly log = createLogger({ component: 'kafka-agent-client' });

  constructor(private readonly options: KafkaAgentClientOptions) {
    this.producer = new RenewingProducer(options.kafka);
    this.jobs = new KeyedSender(options.kafka, this.producer, options.jobsTopic);
    // Nothing committed: the group exists only while this worker does. A renewed consumer
    // starts at the end again; a reply it missed meanwhile comes again, since a job is
    // sent again until answered (sendUntilAnswered).
    this.consumer = new RenewedConsumer({
      make: () => options.kafka.consumer({ groupId: `${options.groupPrefix}agent-replies-${options.replyTo}`, maxWaitTimeInMs: 50, ...AGENT_SESSION }),
      start: async (consumer) => {
        await consumer.connect();
        await consumer.subscribe({ topic: options.repliesTopic, fromBeginning: false });
        await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => this.onReply(message) });
      },
      what: 'agent replies',
      log: this.log,
    });
  }

  async request(job: AgentJobRequest, signal: AbortSignal): Promise<AgentReply> {
    // A start that failed (Kafka away) is forgotten, so the next request tries again.
    await (this.ready ??= this.start().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    }));
    const full: AgentJob = { ...job, jobId: randomUUID(), replyTo: this.options.replyTo };
    let abandon = (): void => {};
    const reply = new Promise<AgentReply>((resolve, reject) => {
      this.pending.set(full.jobId, resolve);
      abandon = () => reject(new Error('abandoned'));
    });
    const send = (): Promise<void> => this.jobs.send(full.target, JSON.stringify(full));
    await sendUntilAnswered(send, reply, RESEND_AFTER_MS, (error) => this.log.warn('sending an agent job again failed', { jobId: full.jobId, error }));
    return abortable(reply, signal, () => {
      this.pending.delete(full.jobId);
      abandon();
    });
  }

  async close(): Promise<void> {
    if (this.ready === undefined) return;
    await this.ready.catch(() => {});
    await Promise.allSettled([this.consumer.stop(), this.producer.disconnect()]);
  }

  /**
   * Joins the reply topic and proves the position is live: a fresh group starts at the
   * end, so a marker we write must come back before any job goes out (else its reply
   * could land before our starting offset and be missed).
   */
  private async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.run();
    const token = randomUUID();
    for (let tries = 0; !this.markers.has(token); tries += 1) {
      if (tries === 600) throw new Error(`agent replies on ${this.options.repliesTopic} never arrived: is Kafka reachable?`);
      if (tries % 20 === 0) {
        await this.producer.send({ topic: this.options.repliesTopic, messages: [{ key: this.options.replyTo, value: null, headers: { [MARKER_HEADER]: token } }] });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private onReply(message: KafkaMessage): void {
    const marker = message.headers?.[MARKER_HEADER];
    if (marker !== undefined) {
      this.markers.add(String(marker));
      return;
    }
    if (message.key?.toString() !== this.options.replyTo || message.value === null) return;
    const parsed = agentReplySchema.safeParse(safeJson(message.value));
    if (!parsed.success) {
      this.log.warn('agent reply does not parse; ignored', { offset: message.offset, error: parsed.error.message });
      return;
    }
    const resolve = this.pending.get(parsed.data.jobId);
    this.pending.delete(parsed.data.jobId);
    resolve?.(parsed.data);
  }
}

export interface KafkaAgentServerOptions {
  kafka: Kafka;
  jobsTopic: string;
  repliesTopic: string;
  dlqTopic: string;
  /** One group per agent: every agent sees every job and keeps those of its targets. */
  groupId: string;
  partitions: number;
  /** Its consumer of jobs stopped for good (the role should exit and be restarted). */
  onFatal?: OnConsumerStopped;
}

export class KafkaAgentJobServer implements AgentJobServer {
  readonly name = 'kafka';
  private readonly producer: RenewingProducer;
  private readonly replies: KeyedSender;
  private readonly consumer: Consumer;
  private readonly log = createLogger({ component: 'kafka-agent-server' });

  constructor(private readonly options: KafkaAgentServerOptions) {
    this.producer = new RenewingProducer(options.kafka);
    this.replies = new KeyedSender(options.kafka, this.producer, options.repliesTopic);
    this.consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 50, ...AGENT_SESSION });
    watchConsumer(this.consumer, 'agent jobs', this.log, options.onFatal);
  }

  async serve(accepts: (target: string) => boolean, handle: (job: AgentJob) => Promise<AgentReply>, concurrency: number): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    // From the beginning: jobs written before this agent's first start wait for it
    // (expired ones are dropped by their deadline).
    await this.consumer.subscribe({ topic: this.options.jobsTopic, fromBeginning: true });
    await this.consumer.run({
      // One partition at a time each: a target's jobs apply in the order they were sent.
      partitionsConsumedConcurrently: Math.max(1, Math.min(concurrency, this.options.partitions)),
      eachMessage: async ({ topic, partition, message }) => {
        const job = agentJobSchema.safeParse(safeJson(message.value));
        if (!job.success) {
          this.log.warn('agent job does not parse; dead-lettering it', { partition, offset: message.offset });
          const dead = deadLetter(this.options.dlqTopic, this.options.groupId, { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} }, new Error(`invalid agent job: ${job.error.message}`));
          await this.producer.send({ topic: dead.topic, acks: -1, messages: [{ key: dead.key, value: dead.value, headers: dead.headers }] });
          return;
        }
        if (!accepts(job.data.target)) return;
        const reply = await handle(job.data);
        await this.replies.send(job.data.replyTo, JSON.stringify(reply));
      },
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect()]);
  }
}

function safeJson(value: Buffer | null): unknown {
  if (value === null) return undefined;
  try {
    return JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
}

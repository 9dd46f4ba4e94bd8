// Agent jobs over RabbitMQ. Jobs go to a fanout exchange; each agent consumes a durable
// quorum queue of its own bound to it (named after the agent, so a restarted agent finds
// the jobs it had not acknowledged) and acknowledges a job only after replying. Replies go
// to the waiting worker's own queue, which RabbitMQ drops when the worker is gone for ten
// minutes. A job sent while no agent's queue existed yet is lost; the worker sends it
// again every RESEND_AFTER_MS until it is answered (agents apply idempotently).
import { randomUUID } from 'node:crypto';
import { createLogger } from '../core/log.js';
import { abortable, RESEND_AFTER_MS, sendUntilAnswered, type AgentJobClient, type AgentJobServer } from './agent-channel.js';
import { agentJobSchema, agentReplySchema, type AgentJob, type AgentJobRequest, type AgentReply } from './agent-messages.js';
import { RabbitConnection, type RabbitConsumer, type RabbitDelivery } from './rabbitmq-connection.js';
import { quorumQueue, rabbitAgentNames, type RabbitAgentNames } from './rabbitmq-names.js';
import type { Channel } from 'amqplib';

/** A worker's reply queue outlives a worker that died by this much. */
const REPLY_QUEUE_EXPIRES_MS = 600_000;

async function declareJobs(channel: Channel, names: RabbitAgentNames): Promise<void> {
  await channel.assertExchange(names.jobs, 'fanout', { durable: true });
}

export class RabbitAgentJobClient implements AgentJobClient {
  readonly name = 'rabbitmq';
  private readonly names: RabbitAgentNames;
  private readonly connection: RabbitConnection;
  private readonly pending = new Map<string, (reply: AgentReply) => void>();
  private replies: Promise<RabbitConsumer> | undefined;
  private readonly log = createLogger({ component: 'rabbitmq-agent-client' });

  constructor(rabbitmqUrl: string, prefix: string, private readonly replyTo: string) {
    this.names = rabbitAgentNames(prefix);
    this.connection = new RabbitConnection(rabbitmqUrl, `agent client ${replyTo}`);
  }

  async request(job: AgentJobRequest, signal: AbortSignal): Promise<AgentReply> {
    await (this.replies ??= this.readReplies());
    const full: AgentJob = { ...job, jobId: randomUUID(), replyTo: this.replyTo };
    let abandon = (): void => {};
    const reply = new Promise<AgentReply>((resolve, reject) => {
      this.pending.set(full.jobId, resolve);
      abandon = () => reject(new Error('abandoned'));
    });
    const send = () => this.connection.publish(this.names.jobs, '', Buffer.from(JSON.stringify(full)), { contentType: 'application/json' });
    await sendUntilAnswered(send, reply, RESEND_AFTER_MS, (error) => this.log.warn('sending an agent job again failed', { jobId: full.jobId, error }));
    return abortable(reply, signal, () => {
      this.pending.delete(full.jobId);
      abandon();
    });
  }

  async close(): Promise<void> {
    await (await this.replies?.catch(() => undefined))?.cancel();
    await this.connection.close();
  }

  private readReplies(): Promise<RabbitConsumer> {
    const queue = this.names.replies(this.replyTo);
    return this.connection.consume({
      queue,
      prefetch: 100,
      declare: async (channel) => {
        await declareJobs(channel, this.names);
        await channel.assertQueue(queue, { durable: true, arguments: { 'x-expires': REPLY_QUEUE_EXPIRES_MS } });
      },
      onMessage: (delivery) => {
        delivery.ack();
        const parsed = agentReplySchema.safeParse(safeJson(delivery.message.content.toString()));
        if (!parsed.success) {
          this.log.warn('agent reply does not parse; ignored', { error: parsed.error.message });
          return;
        }
        const resolve = this.pending.get(parsed.data.jobId);
        this.pending.delete(parsed.data.jobId);
        resolve?.(parsed.data);
      },
    });
  }
}

export class RabbitAgentJobServer implements AgentJobServer {
  readonly name = 'rabbitmq';
  private readonly names: RabbitAgentNames;
  private readonly connection: RabbitConnection;
  private consumer: RabbitConsumer | undefined;
  /** Per target, the tail of its chain of jobs: one target's jobs apply in order. */
  private readonly targetChains = new Map<string, Promise<void>>();
  private readonly log = createLogger({ component: 'rabbitmq-agent-server' });

  constructor(rabbitmqUrl: string, prefix: string, private readonly agentName: string) {
    this.names = rabbitAgentNames(prefix);
    this.connection = new RabbitConnection(rabbitmqUrl, `agent ${agentName}`);
  }

  async serve(accepts: (target: string) => boolean, handle: (job: AgentJob) => Promise<AgentReply>, concurrency: number): Promise<void> {
    const queue = this.names.agentQueue(this.agentName);
    this.consumer = await this.connection.consume({
      queue,
      prefetch: concurrency,
      declare: async (channel) => {
        await declareJobs(channel, this.names);
        await channel.assertQueue(queue, { durable: true, arguments: quorumQueue() });
        await channel.bindQueue(queue, this.names.jobs, '');
      },
      onMessage: (delivery) => this.chain(delivery, accepts, handle),
    });
  }

  async close(): Promise<void> {
    await this.consumer?.cancel();
    await Promise.allSettled([...this.targetChains.values()]);
    await this.connection.close();
  }

  private chain(delivery: RabbitDelivery, accepts: (target: string) => boolean, handle: (job: AgentJob) => Promise<AgentReply>): void {
    const job = agentJobSchema.safeParse(safeJson(delivery.message.content.toString()));
    if (!job.success || !accepts(job.data.target)) {
      if (!job.success) this.log.warn('agent job does not parse; acknowledged and dropped', { error: job.error.message });
      delivery.ack();
      return;
    }
    const target = job.data.target;
    const previous = this.targetChains.get(target) ?? Promise.resolve();
    const next = previous.then(async () => {
      const reply = await handle(job.data);
      const replies = this.names.replies(job.data.replyTo);
      // RabbitMQ refuses names over 255 bytes by closing the channel: such a job has nobody to answer.
      if (Buffer.byteLength(replies) > 255) this.log.warn('agent job names a reply queue too long to exist; no reply sent', { jobId: job.data.jobId });
      // To the default exchange: a worker that is gone has no queue, and the reply is dropped.
      else await this.connection.publish('', replies, Buffer.from(JSON.stringify(reply)), { contentType: 'application/json' });
      delivery.ack();
    });
    const settled = next.catch(async (error: unknown) => {
      // Handed back after a pause: unacknowledged, it would hold a prefetch slot until the agent restarts.
      this.log.warn('agent job failed without a reply; handed back to the queue for another try', { jobId: job.data.jobId, error });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      delivery.requeue();
    });
    this.targetChains.set(target, settled);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Agent jobs over Redis. Jobs are appended to one stream; each agent reads it in a
// consumer group of its own (named after the agent, so a restarted agent finds the
// jobs it had not acknowledged) and acknowledges a job only after replying. Replies are
// pushed to the waiting worker's list. If Redis loses everything, the jobs in flight
// are gone: their attempt times out and the broker retries or rolls it back.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger } from '../core/log.js';
import { abortable, RESEND_AFTER_MS, sendUntilAnswered, type AgentJobClient, type AgentJobServer } from './agent-channel.js';
import { agentJobSchema, agentReplySchema, type AgentJob, type AgentJobRequest, type AgentReply } from './agent-messages.js';
import { redisAgentKeys, type RedisAgentKeys } from './redis-keys.js';

/** Old jobs are trimmed: they matter only until their task's deadline. */
const STREAM_MAX_LENGTH = 100_000;
/** A reply list outlives a worker that died by this much, then Redis drops it. */
const REPLY_TTL_SECONDS = 600;

export class RedisAgentJobClient implements AgentJobClient {
  readonly name = 'redis';
  private readonly keys: RedisAgentKeys;
  private readonly commands: Redis;
  private readonly blocking: Redis;
  private readonly pending = new Map<string, (reply: AgentReply) => void>();
  private loop: Promise<void> | undefined;
  private running = true;
  private readonly log = createLogger({ component: 'redis-agent-client' });

  constructor(redisUrl: string, prefix: string, private readonly replyTo: string) {
    this.keys = redisAgentKeys(prefix);
    this.commands = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.blocking = new Redis(redisUrl, { maxRetriesPerRequest: null });
    for (const client of [this.commands, this.blocking]) client.on('error', (error) => this.log.warn('redis connection error', { error: error.message }));
  }

  async request(job: AgentJobRequest, signal: AbortSignal): Promise<AgentReply> {
    this.loop ??= this.readReplies();
    const full: AgentJob = { ...job, jobId: randomUUID(), replyTo: this.replyTo };
    let abandon = (): void => {};
    const reply = new Promise<AgentReply>((resolve, reject) => {
      this.pending.set(full.jobId, resolve);
      abandon = () => reject(new Error('abandoned'));
    });
    const send = async (): Promise<void> => {
      await this.commands.xadd(this.keys.jobs, 'MAXLEN', '~', STREAM_MAX_LENGTH, '*', 'job', JSON.stringify(full));
    };
    await sendUntilAnswered(send, reply, RESEND_AFTER_MS, (error) => this.log.warn('sending an agent job again failed', { jobId: full.jobId, error }));
    return abortable(reply, signal, () => {
      this.pending.delete(full.jobId);
      abandon();
    });
  }

  async close(): Promise<void> {
    this.running = false;
    this.blocking.disconnect();
    await this.loop?.catch(() => {});
    await this.commands.quit().catch(() => {});
  }

  private async readReplies(): Promise<void> {
    while (this.running) {
      let popped: [string, string] | null;
      try {
        popped = await this.blocking.blpop(this.keys.replies(this.replyTo), 1);
      } catch (error) {
        if (!this.running) return;
        this.log.warn('reading agent replies failed; retrying', { error });
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (popped === null) continue;
      const parsed = agentReplySchema.safeParse(safeJson(popped[1]));
      if (!parsed.success) {
        this.log.warn('agent reply does not parse; ignored', { error: parsed.error.message });
        continue;
      }
      const resolve = this.pending.get(parsed.data.jobId);
      this.pending.delete(parsed.data.jobId);
      resolve?.(parsed.data);
    }
  }
}

type StreamEntries = [string, [string, string[]][]][] | null;

export class RedisAgentJobServer implements AgentJobServer {
  readonly name = 'redis';
  private readonly keys: RedisAgentKeys;
  private readonly commands: Redis;
  private readonly blocking: Redis;
  private running = true;
  private loop: Promise<void> | undefined;
  /** Per target, the tail of its chain of jobs: one target's jobs apply in order. */
  private readonly targetChains = new Map<string, Promise<void>>();
  private readonly log = createLogger({ component: 'redis-agent-server' });

  constructor(redisUrl: string, prefix: string, private readonly agentName: string) {
    this.keys = redisAgentKeys(prefix);
    this.commands = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.blocking = new Redis(redisUrl, { maxRetriesPerRequest: null });
    for (const client of [this.commands, this.blocking]) client.on('error', (error) => this.log.warn('redis connection error', { error: error.message }));
  }

  async serve(accepts: (target: string) => boolean, handle: (job: AgentJob) => Promise<AgentReply>, concurrency: number): Promise<void> {
    await this.ensureGroup();
    this.loop = this.run(accepts, handle, concurrency);
  }

  async close(): Promise<void> {
    this.running = false;
    this.blocking.disconnect();
    await this.loop?.catch(() => {});
    await Promise.allSettled([...this.targetChains.values()]);
    await this.commands.quit().catch(() => {});
  }

  private async run(accepts: (target: string) => boolean, handle: (job: AgentJob) => Promise<AgentReply>, concurrency: number): Promise<void> {
    // First what this agent took before a restart and never acknowledged, then new jobs.
    let cursor = '0';
    while (this.running) {
      let entries: StreamEntries;
      try {
        entries = (await this.blocking.xreadgroup('GROUP', this.keys.group(this.agentName), this.agentName, 'COUNT', concurrency, 'BLOCK', 1000, 'STREAMS', this.keys.jobs, cursor)) as StreamEntries;
      } catch (error) {
        if (!this.running) return;
        // NOGROUP after Redis restarted empty: make the group again and carry on.
        this.log.warn('reading agent jobs failed; retrying', { error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 200));
        await this.ensureGroup().catch(() => {});
        continue;
      }
      const batch = entries?.[0]?.[1] ?? [];
      // Pending entries are read by id, page after page; once none is left, new ones ('>').
      // (Staying on an id after the first page read nothing new ever again: found by the chaos suite.)
      if (cursor !== '>') cursor = batch.length === 0 ? '>' : (batch[batch.length - 1]?.[0] ?? '>');
      await Promise.all(batch.map(([id, fields]) => this.chain(id, fields, accepts, handle)));
    }
  }

  private chain(id: string, fields: string[], accepts: (target: string) => boolean, handle: (job: AgentJob) => Promise<AgentReply>): Promise<void> {
    const job = agentJobSchema.safeParse(safeJson(fields[fields.indexOf('job') + 1] ?? ''));
    if (!job.success || !accepts(job.data.target)) {
      if (!job.success) this.log.warn('agent job does not parse; acknowledged and dropped', { id, error: job.error.message });
      return this.ack(id);
    }
    const target = job.data.target;
    const previous = this.targetChains.get(target) ?? Promise.resolve();
    const next = previous.then(async () => {
      const reply = await handle(job.data);
      const key = this.keys.replies(job.data.replyTo);
      await this.commands.multi().lpush(key, JSON.stringify(reply)).expire(key, REPLY_TTL_SECONDS).exec();
      await this.ack(id);
    });
    const settled = next.catch((error: unknown) => this.log.warn('agent job failed without a reply; it stays pending for redelivery', { id, error }));
    this.targetChains.set(target, settled);
    return settled;
  }

  private async ack(id: string): Promise<void> {
    await this.commands.xack(this.keys.jobs, this.keys.group(this.agentName), id);
  }

  /** From the stream's start: jobs sent before the agent first ran wait for it (expired ones are dropped). */
  private async ensureGroup(): Promise<void> {
    try {
      await this.commands.xgroup('CREATE', this.keys.jobs, this.keys.group(this.agentName), '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('BUSYGROUP')) throw error;
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// The agent: an external process that changes the client's environment. It takes the
// jobs of the targets it serves from the channel, applies each idempotently to its
// environment store, and replies. Jobs whose task's deadline passed are dropped
// unapplied (the task has moved on; a retry sends them again). For demos and fault
// tests an agent can be told to fail the jobs of some targets, or to be slow.
import { agentMetrics } from './agent-metrics.js';
import { secondsSince } from '../core/metrics.js';
import { createLogger } from '../core/log.js';
import type { AgentJobServer } from '../channels/agent-channel.js';
import type { AgentJob, AgentReply } from '../channels/agent-messages.js';
import type { EnvironmentStore } from './environment-store.js';

export interface AgentOptions {
  name: string;
  accepts: (target: string) => boolean;
  server: AgentJobServer;
  environment: EnvironmentStore;
  concurrency?: number;
  /** Fault injection: ordinary jobs on these targets fail (compensations still run). */
  failTargets?: ReadonlySet<string>;
  /** Fault injection: every job waits this long first. */
  delayMs?: number;
  clock?: () => number;
  onStop?: () => Promise<void>;
}

/** Replies remembered by job id, so a job sent again is answered without applying it again. */
const REMEMBERED_REPLIES = 10_000;

export interface AgentStats {
  applied: number;
  refused: number;
  failed: number;
  expired: number;
}

export class Agent {
  private readonly log;
  private readonly clock: () => number;
  private readonly counters: AgentStats = { applied: 0, refused: 0, failed: 0, expired: 0 };
  private readonly replies = new Map<string, AgentReply>();

  constructor(private readonly options: AgentOptions) {
    this.clock = options.clock ?? Date.now;
    this.log = createLogger({ component: 'agent', agent: options.name });
  }

  get name(): string {
    return this.options.name;
  }

  start(): Promise<void> {
    return this.options.server.serve(this.options.accepts, (job) => this.handle(job), this.options.concurrency ?? 8);
  }

  async stop(): Promise<void> {
    try {
      await this.options.server.close();
    } finally {
      await this.options.onStop?.();
    }
  }

  stats(): AgentStats {
    return { ...this.counters };
  }

  private async handle(job: AgentJob): Promise<AgentReply> {
    const known = this.replies.get(job.jobId);
    if (known !== undefined) {
      agentMetrics.jobs.inc({ agent: this.options.name, op: job.op, status: 'repeated' });
      return known;
    }
    const began = performance.now();
    const answer = await this.apply(job);
    agentMetrics.jobs.inc({ agent: this.options.name, op: job.op, status: answer.status });
    agentMetrics.jobSeconds.observe({ agent: this.options.name, op: job.op }, secondsSince(began));
    // Failures are not remembered: a job sent again after a failure deserves another try.
    if (answer.status !== 'failed') {
      this.replies.set(job.jobId, answer);
      if (this.replies.size > REMEMBERED_REPLIES) this.replies.delete(this.replies.keys().next().value as string);
    }
    return answer;
  }

  private async apply(job: AgentJob): Promise<AgentReply> {
    const reply = (outcome: Pick<AgentReply, 'status' | 'message'>): AgentReply => ({ jobId: job.jobId, taskId: job.taskId, agent: this.options.name, target: job.target, ...outcome });
    if (job.deadlineAt <= this.clock()) {
      this.counters.expired += 1;
      return reply({ status: 'refused', message: 'the job arrived after its deadline' });
    }
    if (this.options.delayMs !== undefined && this.options.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.options.delayMs));
    if (!job.compensation && this.options.failTargets?.has(job.target) === true) {
      this.counters.failed += 1;
      return reply({ status: 'failed', message: `agent ${this.options.name} failed to ${job.op} ${job.resource} on ${job.target} (injected fault)` });
    }
    try {
      const outcome = await this.options.environment.apply(job);
      if (outcome.status === 'refused') this.counters.refused += 1;
      else if (outcome.status === 'failed') this.counters.failed += 1;
      else this.counters.applied += 1;
      if (outcome.status === 'refused') this.log.info('job refused', { taskId: job.taskId, target: job.target, reason: outcome.message });
      return reply(outcome);
    } catch (error) {
      this.counters.failed += 1;
      this.log.warn('job failed', { taskId: job.taskId, target: job.target, error });
      return reply({ status: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
  }
}

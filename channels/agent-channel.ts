// The channel between workers and agents (the seed's MC, second use): a worker sends a
// job for one target and waits for its reply; an agent serves the targets its selector
// matches. Implementations: Kafka (topics agent.jobs / agent.replies) and Redis (a
// stream with one consumer group per agent, and a reply list per worker).
import type { AgentJobRequest, AgentJob, AgentReply } from './agent-messages.js';

export interface AgentJobClient {
  readonly name: string;
  /** Sends the job and resolves with the agent's reply; rejects when `signal` aborts first. */
  request(job: AgentJobRequest, signal: AbortSignal): Promise<AgentReply>;
  close(): Promise<void>;
}

export interface AgentJobServer {
  readonly name: string;
  /**
   * Delivers every job whose target `accepts` to `handle`, at most `concurrency` at a
   * time, and sends back what it returns. A job whose agent dies before replying is
   * delivered again (agents apply idempotently).
   */
  serve(accepts: (target: string) => boolean, handle: (job: AgentJob) => Promise<AgentReply>, concurrency: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * How often a job without a reply is sent again. A job can be lost with the channel (a
 * Redis that restarts empty, replies missed while a consumer rejoined); agents apply
 * idempotently and answer a repeated job id from memory, so sending again is safe.
 */
export const RESEND_AFTER_MS = 10_000;

/** Sends now and again every `everyMs` until `reply` settles. */
export async function sendUntilAnswered<T>(send: () => Promise<void>, reply: Promise<T>, everyMs: number, onError: (error: unknown) => void): Promise<void> {
  await send();
  const timer = setInterval(() => void send().catch(onError), everyMs);
  void reply.finally(() => clearInterval(timer)).catch(() => {});
}

/** Rejects when the signal aborts; used while a reply is awaited. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error as Error);
      },
    );
  });
}
